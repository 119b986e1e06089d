#!/usr/bin/python3
"""Reads auth_jwt_status's Prometheus text with prometheus_client's parser.

    prometheus_check.py TEXT [JSON]

Prints every sample as 'name{label="value",...} value', sorted, and exits
non-zero on a parse error, a family without HELP or TYPE, or (with JSON,
the ?format=json answer) any difference between the two forms.
"""

import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def key(name, labels):
    inner = ",".join('%s="%s"' % (k, labels[k]) for k in sorted(labels))
    return "%s{%s}" % (name, inner)


def main():
    text = open(sys.argv[1], encoding="utf-8").read()
    samples = {}
    types = {}

    for family in text_string_to_metric_families(text):
        if family.type == "unknown" or not family.documentation:
            sys.exit("no HELP or TYPE for %s" % family.name)
        for s in family.samples:
            k = key(s.name, s.labels)
            if k in samples:
                sys.exit("duplicate sample %s" % k)
            samples[k] = float(s.value)
            types[s.name] = family.type

    if len(sys.argv) > 2:
        doc = json.load(open(sys.argv[2], encoding="utf-8"))
        seen = {}
        for name, family in doc.items():
            for s in family["samples"]:
                seen[key(s["name"], s["labels"])] = float(s["value"])
            base = name[:-len("_total")] if name.endswith("_total") else name
            if family["type"] != types.get(
                    name, types.get(name + "_bucket", family["type"])):
                sys.exit("type of %s differs" % base)
        if seen != samples:
            diff = set(seen.items()) ^ set(samples.items())
            sys.exit("JSON and text differ: %s" % sorted(diff)[:5])

    for k in sorted(samples):
        v = samples[k]
        print("%s %s" % (k, int(v) if v == int(v) else v))


if __name__ == "__main__":
    main()
