#!/usr/bin/env python3
"""Every module a target imports is one Package.swift declares for it (a target, or a
product of a package), so that no target leans on what another brings in."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SYSTEM = {"Foundation", "FoundationEssentials", "Glibc", "Musl", "Darwin", "Dispatch", "Synchronization", "Testing", "XCTest", "_Concurrency"}


def names_in(text):
    """Target and product names in a dependency list's text."""
    names = set(re.findall(r'\.product\(name:\s*"([^"]+)"', text))
    return names | set(re.findall(r'(?<![:\w])"([^"]+)"', re.sub(r'\.product\([^)]*\)', "", text)))


def targets():
    text = open(os.path.join(ROOT, "Package.swift")).read()
    # Shared lists: `let name: [Target.Dependency] = [ ... ]`.
    shared = {m.group(1): names_in(m.group(2)) for m in re.finditer(r"let (\w+): \[Target\.Dependency\] = \[(.*?)\n\]", text, re.S)}
    found = {}
    for match in re.finditer(r'\.(?:target|testTarget|executableTarget|systemLibrary)\(\s*name:\s*"([^"]+)"', text):
        name, start = match.group(1), match.end()
        # The call's arguments: up to the parenthesis that closes it.
        depth, i = 1, start
        while depth and i < len(text):
            depth += {"(": 1, ")": -1}.get(text[i], 0)
            i += 1
        body = text[start:i]
        deps = set(re.findall(r'\.product\(name:\s*"([^"]+)"', body))
        listed = re.search(r"dependencies:\s*\[(.*?)\]\s*(?:,\s*(?:path|exclude|swiftSettings|resources)|\)\s*$)", body, re.S)
        if listed:
            deps |= names_in(listed.group(1))
        for name_ref in re.findall(r"dependencies:\s*(\w+)", body):
            deps |= shared.get(name_ref, set())
        # `dependencies: shared + [ ... ]`
        extra = re.search(r"dependencies:\s*\w+\s*\+\s*\[(.*?)\]", body, re.S)
        if extra:
            deps |= names_in(extra.group(1))
        path = re.search(r'path:\s*"([^"]+)"', body)
        kind = match.group(0).split("(")[0]
        folder = path.group(1) if path else ("Tests/" if kind == ".testTarget" else "Sources/") + name
        found[name] = (folder, deps)
    return found


def main():
    problems = []
    all_targets = targets()
    for name, (folder, deps) in sorted(all_targets.items()):
        for root, _, files in os.walk(os.path.join(ROOT, folder)):
            for f in files:
                if not f.endswith(".swift"):
                    continue
                for line in open(os.path.join(root, f)):
                    m = re.match(r"\s*(?:@testable\s+|@_exported\s+|@preconcurrency\s+)*import\s+(?:struct\s+|class\s+|enum\s+|func\s+)?(\w+)", line)
                    if m and m.group(1) not in SYSTEM and m.group(1) not in deps and m.group(1) != name:
                        problems.append(f"{os.path.relpath(os.path.join(root, f), ROOT)}: imports {m.group(1)}, which {name} does not declare")
    for p in sorted(set(problems)):
        print("check_imports: " + p, file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
