#!/usr/bin/env python3
"""The kernels of a run, one line each, from Nsight Compute's CSV.

  ncu --clock-control none --metrics gpu__time_duration.sum,dram__bytes.sum --csv \\
      --print-units base jacnoise train --device cuda --cuda-graph off ... > ncu.csv
  python3 tools/kernel_times.py ncu.csv

Prints, in the order the kernels first ran: launches, mean and total duration (us), mean
DRAM bytes and the bandwidth they make over the kernel's time (a dash where that time is 0).
Nsight Compute runs each kernel alone with its caches flushed, so a duration is the kernel's
own, without the overlap and the cache hits of the real run. Exit 1 with one line where the
file is not such a CSV, or its units are not the base ones (nanoseconds, bytes), which the
table would misread by factors of 1000 without a word."""
import argparse
import csv

import tool_files

TIME, BYTES = "gpu__time_duration.sum", "dram__bytes.sum"
# The spellings of the base units (--print-units base) across Nsight Compute's versions.
BASE_UNITS = {TIME: ("ns", "nsecond"), BYTES: ("byte",)}


def read(path):
    """{(launch id, kernel name): {metric: value}} in launch order."""
    launches, at = {}, [0]

    def quoted(f):
        """The CSV's lines (ncu's and the program's own lines between them left out), at[0] the
        file's number of the last one, for messages."""
        for at[0], line in enumerate(f, start=1):
            if line.startswith('"'):
                yield line

    # utf-8-sig: a spreadsheet saves the CSV with a byte-order mark, which hid the header's quote
    # strict: a file cut inside a quoted field (ncu quotes every one) was read as if the field
    # ended there, the last row's value cut short without a word
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = csv.DictReader(quoted(f), strict=True)
            for row in rows:
                try:
                    if None in row or None in row.values():
                        raise ValueError(f"not as many fields as the header's {len(rows.fieldnames)}")
                    # int() would also take ' 3' and 1_0, which ncu never writes
                    launch = tool_files.decimal(row["ID"])
                    if launch is None or launch < 0 or not launch.is_integer():
                        raise ValueError(f"ID '{row['ID']}' is not a whole number >= 0")
                    key = (int(launch), row["Kernel Name"])
                    # ncu groups digits with commas; float() would also take nan, 1_000 and spaces
                    value = tool_files.decimal(row["Metric Value"].replace(",", ""))
                    if value is None or value < 0:
                        raise ValueError(f"{row['Metric Name']} '{row['Metric Value']}' is not a decimal number >= 0")
                    name, unit = row["Metric Name"], row["Metric Unit"]
                except (KeyError, TypeError, ValueError) as e:
                    raise ValueError(f"line {at[0]}: not a row of Nsight Compute's CSV ({e})") from None
                if unit not in BASE_UNITS.get(name, (unit,)):
                    raise ValueError(f"line {at[0]}: {name} in '{unit}', not '{BASE_UNITS[name][0]}' "
                                     "(profile with --print-units base)")
                launches.setdefault(key, {})[name] = value
    except csv.Error as e:
        raise ValueError(f"line {at[0]}: not a row of Nsight Compute's CSV ({e})") from None
    if not launches:
        raise ValueError("no kernel rows (was the run profiled with --csv?)")
    missing = [name for (_, name), m in launches.items() if TIME not in m]
    if missing:
        raise ValueError(f"no {TIME} for {missing[0]} (profile with --metrics {TIME},{BYTES})")
    return launches


def main():
    # The whole text: the first line alone left out the ncu options the CSV needs.
    parts = __doc__.split("\n\n")
    ap = tool_files.ArgumentParser(description=parts[0], epilog="\n\n".join(parts[1:]),
                                   formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("csv", type=tool_files.name_of("file"), help="Nsight Compute's CSV of the run, made as below")
    args = ap.parse_args()
    try:
        launches = read(args.csv)
    except OSError as e:  # its words alone: the errno and the path again would follow the path
        tool_files.say(f"{args.csv}: {e.strerror}")
        return 1
    except UnicodeDecodeError as e:  # a ValueError too, whose text says nothing of the file
        tool_files.say(f"{args.csv}: not a readable CSV file ({e})")
        return 1
    except ValueError as e:
        tool_files.say(f"{args.csv}: {e}")
        return 1
    kernels = {}
    for (_, name), m in sorted(launches.items()):
        # The whole name: cuBLAS's kernels differ in words past the 60th character (tile sizes,
        # split-K), where a name cut there counted two kernels as one.
        k = kernels.setdefault(name.split("(")[0], [0, 0.0, 0.0])
        k[0] += 1
        k[1] += m[TIME] * 1e-3
        k[2] += m.get(BYTES, 0.0)
    width = max(60, *map(len, kernels))
    lines = [f"{'kernel':<{width}} {'launches':>8} {'mean us':>9} {'total us':>10} {'mean MB':>8} {'GB/s':>7}"]
    for name, (n, us, nbytes) in kernels.items():
        rate = f"{nbytes / us / 1e3:.0f}" if us else "-"  # no time to spread the bytes over
        lines.append(f"{name:<{width}} {n:>8} {us / n:>9.2f} {us:>10.1f} {nbytes / n / 1e6:>8.2f} {rate:>7}")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    tool_files.run_program(main)
