#!/usr/bin/env python3
"""botocore 1.44.5's paginators on generated pages: for every paginator of the models (loaded by
botocore's own loader, sdk-extras merged), the requests `paginate()` makes and what
`build_full_result()` returns, when a stand-in AWS serves generated pages in order
(AWSClientTests compares awsgw's Pagination with these).

    python3 scripts/pagination_reference.py --models models [--seed 11]

Three scenarios a paginator: every page; `MaxItems` cut inside a page; resuming from
that cut's `NextToken`. Prints one JSON object:
{"botocore": version, "paginators": [{"service", "operation", "params", "scenarios":
[{"maxItems"?, "startingToken"?, "pages": [...], "requests": [...], "result"?, "error"?}]}]}.
"""
import copy
import json
import os
import sys

# The pinned botocore's own code (scripts/setup.sh unpacks it), not the system's.
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "fixtures", "botocore", "python"))
sys.path.insert(0, HERE)

import botocore  # noqa: E402
from botocore.paginate import Paginator  # noqa: E402
from jmespath_reference import Documents  # noqa: E402
from reference_setup import start  # noqa: E402


def first_names(config):
    """The top-level members a paginator's expressions start from."""
    names = set()
    for key in ("output_token", "result_key", "non_aggregate_keys", "more_results"):
        value = config.get(key)
        for expression in value if isinstance(value, list) else [value] if value else []:
            head = expression.split(" ")[0].split(".")[0].split("[")[0]
            names.add(head)
    return names


def simple_path(expression):
    return all(part.isidentifier() for part in expression.split("."))


def set_path(document, path, value):
    parts = path.split(".")
    for part in parts[:-1]:
        document = document.setdefault(part, {})
        if not isinstance(document, dict):
            return
    if value is None:
        document.pop(parts[-1], None)
    else:
        document[parts[-1]] = value


class Pages:
    """Pages of an output shape with the paginator's tokens set: each page but the last
    names a next token (and says more results follow), the last none."""

    def __init__(self, model, output, config, rng):
        self.model = model
        self.output = output
        self.config = config
        self.rng = rng
        self.documents = Documents(model["shapes"], rng)

    def make(self, count):
        wanted = first_names(self.config)
        members = self.model["shapes"][self.output]["members"] if self.output else {}
        others = [m for m in members if m not in wanted]
        keep = wanted | set(self.rng.sample(others, min(1, len(others))))
        pages = []
        for index in range(count):
            page = {}
            for name, ref in members.items():
                if name in keep and (name in wanted or self.rng.random() < 0.8):
                    page[name] = self.documents.make(ref["shape"], depth=2)
            last = index == count - 1
            tokens = self.config["output_token"]
            for n, token in enumerate(tokens if isinstance(tokens, list) else [tokens]):
                if simple_path(token):
                    set_path(page, token, None if last else "tok-%d-%d" % (index, n))
            more = self.config.get("more_results")
            if more and simple_path(more):
                set_path(page, more, not last)
            pages.append(page)
        return pages


def run(config, params, pages, max_items=None, starting_token=None):
    requests = []
    served = iter(pages)

    def method(**kwargs):
        requests.append(copy.deepcopy(kwargs))
        return copy.deepcopy(next(served))

    paging = {}
    if max_items is not None:
        paging["MaxItems"] = max_items
    if starting_token is not None:
        paging["StartingToken"] = starting_token
    scenario = {"pages": pages}
    if max_items is not None:
        scenario["maxItems"] = max_items
    if starting_token is not None:
        scenario["startingToken"] = starting_token
    try:
        iterator = Paginator(method, config, None).paginate(**copy.deepcopy(params), PaginationConfig=paging)
        scenario["result"] = iterator.build_full_result()
    except StopIteration:
        scenario["error"] = "ran out of pages"
    except Exception as error:  # noqa: BLE001 - named in the output
        scenario["error"] = type(error).__name__
    scenario["requests"] = requests
    return scenario


def first_count(config, page):
    import jmespath

    keys = config["result_key"]
    primary = keys[0] if isinstance(keys, list) else keys
    found = jmespath.search(primary, page)
    return len(found) if isinstance(found, (list, str, dict)) else 0


def main():
    _, rng, loader = start(default_seed=11)
    out = []
    for service in loader.list_available_services("paginators-1"):
        paginators = loader.load_service_model(service, "paginators-1").get("pagination", {})
        model = loader.load_service_model(service, "service-2")
        for operation in sorted(paginators):
            config = paginators[operation]
            output = model["operations"].get(operation, {}).get("output", {}).get("shape")
            pages = Pages(model, output, config, rng).make(3)
            # Half the calls give the input token themselves, first: a next token then
            # takes its place in the params (the order a JSON body is written in).
            tokens = config["input_token"] if isinstance(config["input_token"], list) else [config["input_token"]]
            params = {tokens[0]: "from-caller", "Seed": "s"} if len(out) % 2 else {"Seed": "s"}
            scenarios = [run(config, params, pages)]
            # MaxItems one past the first page's results: the cut falls in the second page.
            cut = first_count(config, pages[0]) + 1
            stopped = run(config, params, pages, max_items=cut)
            scenarios.append(stopped)
            token = stopped.get("result", {}).get("NextToken")
            if token is not None:
                # Resuming fetches the page that was cut again, then the rest.
                resumed_from = len(stopped["requests"]) - 1
                scenarios.append(run(config, params, pages[resumed_from:], starting_token=token))
            out.append({"service": service, "operation": operation, "params": params, "scenarios": scenarios})
    json.dump({"botocore": botocore.__version__, "paginators": out}, sys.stdout, separators=(",", ":"))


if __name__ == "__main__":
    main()
