#!/usr/bin/env python3
"""Compares the tables of two evaluation.md files (pc5sec evaluate, docs/evaluation.md).

  compare_evaluation.py shape A B   same sections, same columns and the same row labels
                                    (docs/evaluation.md cannot fall behind the code)
  compare_evaluation.py same A B    and the same cells, except what is not reproducible: the
                                    `measured` profile's columns and the preamble that names it
Exit status 0 when they match; otherwise each difference on stdout, status 1."""
import sys


def tables(path):
    """{section heading: (columns, rows)} of a pc5sec evaluation.md."""
    out, heading, cols, rows = {}, None, None, []
    for line in open(path, encoding="utf-8"):
        line = line.rstrip("\n")
        if line.startswith("## "):
            heading, cols, rows = line[3:], None, []
            continue
        if heading and line.startswith("|"):
            # Split on '|' not escaped as '\|'.
            cells, cur, esc = [], "", False
            for ch in line[1:]:
                if ch == "|" and not esc:
                    cells.append(cur.strip())
                    cur = ""
                else:
                    cur += ch
                esc = ch == "\\"
            if cols is None:
                cols = cells
            elif not all(set(c) <= set("-:") for c in cells):
                rows.append(cells)
            out[heading] = (cols, rows)
    return out


def main():
    mode, a, b = sys.argv[1], tables(sys.argv[2]), tables(sys.argv[3])
    problems = []
    if list(a) != list(b):
        problems.append(f"sections differ: {list(a)} vs {list(b)}")
    for h in a:
        if h not in b:
            continue
        (ca, ra), (cb, rb) = a[h], b[h]
        if ca != cb:
            problems.append(f"{h}: columns differ: {ca} vs {cb}")
            continue
        la, lb = [r[0] for r in ra], [r[0] for r in rb]
        if la != lb:
            problems.append(f"{h}: rows differ: {la} vs {lb}")
            continue
        if mode == "same":
            keep = [i for i, c in enumerate(ca) if "measured" not in c]
            for x, y in zip(ra, rb):
                if [x[i] for i in keep] != [y[i] for i in keep]:
                    problems.append(f"{h}: row {x[0]} differs: {x} vs {y}")
    for p in problems:
        print(p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
