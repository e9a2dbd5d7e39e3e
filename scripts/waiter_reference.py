#!/usr/bin/env python3
"""botocore 1.44.5's waiters on scripted answers: for every waiter of the models (loaded by
botocore's own loader), how many polls `Waiter.wait` makes and how it ends, when the
polled operation answers a scripted sequence (AWSClientTests compares awsgw's Waiting
with these).

    python3 scripts/waiter_reference.py --models models [--seed 13] [--scenarios 8]

Each scenario is four answers drawn from a pool made for the waiter: results of the
operation's output shape (some with an acceptor's path set to its expected value),
errors with the codes and statuses the acceptors name, and an error none expects. The
wait runs with MaxAttempts 4 and Delay 0. Prints one JSON object:
{"botocore": version, "waiters": [{"service", "name", "scenarios": [{"answers": [...],
"polls": N, "outcome": "success"|"failure"|"timeout"|"error", "reason"?}]}]} ("error": an
acceptor's expression failed on an answer, e.g. length() of a missing member), an answer being
{"result": {...}, "status": N} or {"error": {"code", "message"}, "status": N}.
"""
import copy
import json
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures", "botocore", "python"))
sys.path.insert(0, HERE)

import botocore  # noqa: E402
from botocore.exceptions import WaiterError  # noqa: E402
from botocore.waiter import SingleWaiterConfig, Waiter  # noqa: E402
from jmespath_reference import Documents  # noqa: E402
from pagination_reference import set_path, simple_path  # noqa: E402
from reference_setup import start  # noqa: E402

LIST_PATH = re.compile(r"^([A-Za-z_][\w.]*)\[\*?\]\.([A-Za-z_][\w.]*)$")


def result_answer(document, status=200):
    return {"result": document, "status": status}


def error_answer(code, status=400):
    return {"error": {"code": code, "message": "scripted " + code}, "status": status}


def pool_for(waiter, model, rng):
    """Answers that reach the waiter's acceptors, and some that reach none."""
    documents = Documents(model["shapes"], rng)
    output = model["operations"].get(waiter["operation"], {}).get("output", {}).get("shape")
    make = (lambda: documents.make(output)) if output else dict
    pool = [result_answer(make()) for _ in range(3)]
    for acceptor in waiter["acceptors"]:
        matcher, expected, argument = acceptor["matcher"], acceptor["expected"], acceptor.get("argument", "")
        if matcher == "path" and simple_path(argument):
            document = make()
            set_path(document, argument, expected)
            pool.append(result_answer(document))
        elif matcher in ("pathAll", "pathAny") and LIST_PATH.match(argument):
            outer, inner = LIST_PATH.match(argument).groups()
            document = make()
            elements = []
            for _ in range(2):
                element = {}
                set_path(element, inner, expected)
                elements.append(element)
            set_path(document, outer, elements)
            pool.append(result_answer(document))
        elif matcher == "error" and isinstance(expected, str):
            pool.append(error_answer(expected))
        elif matcher == "status":
            pool.append(result_answer(make(), expected) if expected < 300 else error_answer("Http%d" % expected, expected))
    pool.append(error_answer("UnexpectedError", 400))
    return pool


def botocore_response(answer):
    if "error" in answer:
        return {"Error": {"Code": answer["error"]["code"], "Message": answer["error"]["message"]},
                "ResponseMetadata": {"HTTPStatusCode": answer["status"]}}
    response = copy.deepcopy(answer["result"])
    response["ResponseMetadata"] = {"HTTPStatusCode": answer["status"]}
    return response


def run(name, config, answers):
    served = iter(answers)
    polls = []

    def method(**kwargs):
        polls.append(kwargs)
        return botocore_response(next(served))

    waiter = Waiter(name, SingleWaiterConfig(config), method)
    scenario = {"answers": answers}
    try:
        waiter.wait(WaiterConfig={"Delay": 0, "MaxAttempts": 4})
        scenario["outcome"] = "success"
    except WaiterError as error:
        reason = error.kwargs["reason"]
        scenario["outcome"] = "timeout" if reason.startswith("Max attempts exceeded") else "failure"
        scenario["reason"] = reason
    except Exception as error:  # noqa: BLE001 - an acceptor's expression failed on the answer
        scenario["outcome"] = "error"
        scenario["reason"] = type(error).__name__
    scenario["polls"] = len(polls)
    return scenario


def main():
    args, rng, loader = start(default_seed=13, extra=[("--scenarios", {"type": int, "default": 8})])
    out = []
    for service in loader.list_available_services("waiters-2"):
        waiters = loader.load_service_model(service, "waiters-2").get("waiters", {})
        model = loader.load_service_model(service, "service-2")
        for name in sorted(waiters):
            config = waiters[name]
            pool = pool_for(config, model, rng)
            scenarios = [run(name, config, [rng.choice(pool) for _ in range(4)]) for _ in range(args.scenarios)]
            out.append({"service": service, "name": name, "scenarios": scenarios})
    json.dump({"botocore": botocore.__version__, "waiters": out}, sys.stdout, separators=(",", ":"))


if __name__ == "__main__":
    main()
