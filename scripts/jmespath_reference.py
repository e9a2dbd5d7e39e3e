#!/usr/bin/env python3
"""Python jmespath's answers for every JMESPath expression in botocore's paginators and
waiters, on documents shaped like the operation's output (AWSJMESPathTests compares
awsgw's evaluator with these).

    python3 scripts/jmespath_reference.py --models models [--documents 4] [--seed 7]

Prints one JSON object: {"jmespath": version, "operations": [{"service", "operation",
"documents": [...], "expressions": [{"expression", "results": [...]}]}]}, where each
result is {"value": ...} or {"error": kind}. For each service only its newest API
version is read (the one botocore and awsgw load).
"""
import argparse
import gzip
import json
import os
import random
import sys

import jmespath
from jmespath import exceptions

ERROR_KINDS = [
    (exceptions.UnknownFunctionError, "unknown-function"),
    (exceptions.ArityError, "invalid-arity"),
    (exceptions.JMESPathTypeError, "invalid-type"),
    (exceptions.ParseError, "syntax"),
    (ValueError, "invalid-value"),
]


def load(path):
    for candidate in (path, path + ".gz"):
        if os.path.exists(candidate):
            opener = gzip.open if candidate.endswith(".gz") else open
            with opener(candidate, "rt", encoding="utf-8") as f:
                return json.load(f)
    return None


class Documents:
    """Random documents of an output shape: members present or not, lists of 0-2
    elements, enum values where the model names them."""

    def __init__(self, shapes, rng):
        self.shapes = shapes
        self.rng = rng

    def make(self, name, depth=0):
        shape = self.shapes[name]
        kind = shape["type"]
        rng = self.rng
        if kind == "structure":
            if depth > 5:
                return {}
            out = {}
            for member, ref in shape.get("members", {}).items():
                if rng.random() < 0.8:
                    out[member] = self.make(ref["shape"], depth + 1)
            return out
        if kind == "list":
            if depth > 5:
                return []
            return [self.make(shape["member"]["shape"], depth + 1) for _ in range(rng.randint(0, 2))]
        if kind == "map":
            if depth > 5:
                return {}
            return {"k%d" % i: self.make(shape["value"]["shape"], depth + 1) for i in range(rng.randint(0, 2))}
        if kind == "string":
            if "enum" in shape:
                return rng.choice(shape["enum"])
            return rng.choice(["", "a", "token-%d" % rng.randint(0, 9), "caf\u00e9"])
        if kind in ("integer", "long"):
            return rng.randint(0, 3)
        if kind in ("float", "double"):
            return rng.choice([0.5, 1.0, 2.25])
        if kind == "boolean":
            return rng.choice([True, False])
        if kind == "timestamp":
            return "2026-12-0%dT10:00:00Z" % rng.randint(1, 9)
        return "AQID"  # blob


def evaluate(expression, document):
    try:
        return {"value": jmespath.search(expression, document)}
    except Exception as error:  # noqa: BLE001 - each kind is named below
        for cls, kind in ERROR_KINDS:
            if isinstance(error, cls):
                return {"error": kind}
        return {"error": type(error).__name__}


def expressions_of(service_dir):
    """{operation: set of expressions} from the paginators and waiters beside a model."""
    found = {}
    paginators = load(os.path.join(service_dir, "paginators-1.json")) or {}
    for operation, paginator in paginators.get("pagination", {}).items():
        for key in ("output_token", "result_key", "non_aggregate_keys", "more_results"):
            value = paginator.get(key)
            for expression in value if isinstance(value, list) else [value] if value else []:
                found.setdefault(operation, set()).add(expression)
    waiters = load(os.path.join(service_dir, "waiters-2.json")) or {}
    for waiter in waiters.get("waiters", {}).values():
        for acceptor in waiter.get("acceptors", []):
            if "argument" in acceptor:
                found.setdefault(waiter["operation"], set()).add(acceptor["argument"])
    return found


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", required=True)
    parser.add_argument("--documents", type=int, default=4)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    operations = []
    for service in sorted(os.listdir(args.models)):
        service_root = os.path.join(args.models, service)
        if not os.path.isdir(service_root):
            continue
        versions = sorted(v for v in os.listdir(service_root) if os.path.isdir(os.path.join(service_root, v)))
        if not versions:
            continue
        service_dir = os.path.join(service_root, versions[-1])
        found = expressions_of(service_dir)
        if not found:
            continue
        model = load(os.path.join(service_dir, "service-2.json"))
        if model is None:
            continue
        documents = Documents(model["shapes"], rng)
        for operation in sorted(found):
            output = model["operations"].get(operation, {}).get("output", {}).get("shape")
            docs = [documents.make(output) if output else {} for _ in range(args.documents)]
            expressions = [{"expression": e, "results": [evaluate(e, d) for d in docs]} for e in sorted(found[operation])]
            operations.append({"service": service, "operation": operation, "documents": docs, "expressions": expressions})
    json.dump({"jmespath": jmespath.__version__, "operations": operations}, sys.stdout, ensure_ascii=False, separators=(",", ":"))


if __name__ == "__main__":
    main()
