"""A synthetic import file of N rows in the exchange format, for measuring the import.

    python scripts/import_file.py --rows 100000 --output /tmp/cases-100000.csv [--seed 1]

Every row is marked as synthetic (its external reference starts with
SYNTHETIC-IMPORT-, its summary says so). Rows mix what real files hold:
Hangul and romanized names with other spellings, unnamed persons, partial
dates, a status with its source (a hundred sources shared between rows).
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

# The columns, in order, as the example file (the format's contract) has them.
EXAMPLE = Path(__file__).resolve().parent.parent / "fixtures" / "example-import.csv"
with EXAMPLE.open(encoding="utf-8-sig", newline="") as example:
    COLUMNS = next(csv.reader(example))

FAMILY = {"김": "Kim", "이": "Lee", "박": "Park", "최": "Choi", "정": "Jung", "강": "Kang", "조": "Cho", "윤": "Yoon"}
GIVEN = [("철", "Chol"), ("영", "Young"), ("민", "Min"), ("수", "Su"), ("정", "Jong"), ("호", "Ho"), ("순", "Sun")]
STATUSES = [
    "arrested",
    "Detained",
    "forcibly repatriated",
    "sentenced",
    "Political prison camp",
    "disappeared",
    "released",
]
CATEGORIES = ["Abductee", "Forcibly repatriated refugee", "Missionary", "Religious prisoner", "Political prisoner"]
PLACES = ["Hyesan", "Onsong", "Hoeryong", "Chongjin", "Sinuiju", "Yodok", "Kaechon", "Shenyang"]


def rows(count: int, rng: random.Random):
    for n in range(1, count + 1):
        row = dict.fromkeys(COLUMNS, "")
        row["external_ref"] = f"SYNTHETIC-IMPORT-{n:07d}"
        if rng.random() < 0.05:
            row["descriptor"] = f"Unnamed person no. {n}, reported detained near {rng.choice(PLACES)}"
        else:
            family = rng.choice(list(FAMILY))
            given = rng.sample(GIVEN, 2)
            roman = f"{given[0][1]}-{given[1][1].lower()}"
            row["name"] = f"{FAMILY[family]} {roman}"
            row["name_native"] = family + given[0][0] + given[1][0]
            row["other_names"] = f"{FAMILY[family]} {roman.replace('-', '')}; {FAMILY[family].upper()} {roman}"
        row["sex"] = rng.choice(["male", "Female", "unknown"])
        row["birth_date"] = rng.choice([f"{rng.randint(1940, 2005)}", f"{rng.randint(1940, 2005)}~", ""])
        row["nationality"] = rng.choice(["KP", "KP", "KR", "CN", "JP"])
        row["categories"] = "; ".join(rng.sample(CATEGORIES, rng.randint(0, 2)))
        row["summary"] = f"[Synthetic import test row {n}, not a real case]"
        row["internal_notes"] = "Synthetic: restricted note."
        if rng.random() < 0.9:
            year = rng.randint(1995, 2024)
            row["status"] = rng.choice(STATUSES)
            row["status_date"] = rng.choice(
                [f"{year}", f"{year}-{rng.randint(1, 12):02d}", f"{year}-03-{rng.randint(10, 28)}"]
            )
            row["status_place"] = rng.choice(PLACES)
            row["status_confidence"] = rng.choice(["confirmed", "Likely", "possible"])
            if rng.random() < 0.8:
                source = rng.randint(1, 100)
                row["source_title"] = f"Synthetic report no. {source}"
                row["source_url"] = f"https://example.org/synthetic-import/{source}"
                row["source_publisher"] = "A synthetic NGO"
                row["source_date"] = f"{2000 + source % 25}"
                row["source_locator"] = f"p. {rng.randint(1, 300)}"
        yield row


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args()
    with args.output.open("w", newline="", encoding="utf-8") as file:
        writer = csv.DictWriter(file, COLUMNS)
        writer.writeheader()
        writer.writerows(rows(args.rows, random.Random(args.seed)))  # noqa: S311 (test data, not secrets)


if __name__ == "__main__":
    main()
