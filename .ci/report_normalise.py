"""Write an impact report's JSON in a form two databases with the same data agree on, for the backup
and restore drill: without its generation time, keys sorted, and every float rounded to 9
significant digits.

The report's frame queries have no ORDER BY (sorting the largest of them made the report slow), so
a restored database may hand rows to the statistics in another order and a float's last digit or
two can change; a lost or changed row moves figures far more than that.

    python .ci/report_normalise.py REPORT.json OUT.txt
"""

import json
import sys


def normalise(value):
    if isinstance(value, float):
        return float(f"{value:.9g}")
    if isinstance(value, dict):
        return {key: normalise(item) for key, item in value.items() if key != "generated_at"}
    if isinstance(value, list):
        return [normalise(item) for item in value]
    return value


def main(source: str, target: str) -> None:
    with open(source) as report:
        data = normalise(json.load(report))
    with open(target, "w") as out:
        json.dump(data, out, indent=1, sort_keys=True)


if __name__ == "__main__":
    main(*sys.argv[1:3])
