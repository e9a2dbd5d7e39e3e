"""What the botocore reference scripts share: their arguments (--models, --seed), a
seeded random source and a botocore Loader over the given models only. The caller puts
fixtures/botocore/python on sys.path first, so that botocore is the pinned 1.44.5."""

import argparse
import os
import random


def start(default_seed, extra=()):
    """(args, rng, loader); `extra` is (flag, keyword arguments) pairs for more options."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--models", required=True)
    parser.add_argument("--seed", type=int, default=default_seed)
    for flag, options in extra:
        parser.add_argument(flag, **options)
    args = parser.parse_args()
    from botocore.loaders import Loader

    loader = Loader(extra_search_paths=[os.path.abspath(args.models)], include_default_search_paths=False)
    return args, random.Random(args.seed), loader
