"""Writes the fuzzers' seed corpus: small valid and malformed inputs, each a few hundred
bytes, made here (not copies of the data sets). The checkpoint and step-state seeds come
from a tiny run of the program on a generated 4x4-pixel IDX set: the format it writes now,
and each older one the reader still takes, made from it.

    python3 tests/fuzz/make_corpus.py build/jacnoise tests/fuzz/corpus
"""
import gzip
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib


def idx(type_code, dims, payload):
    return bytes([0, 0, type_code, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload


def usps_line(label, values, compact):
    if compact:
        return " ".join([str(label)] + [f"{v:g}" for v in values]) + "\n"
    return " ".join([f"{label:.4f}"] + [f"{v:.4f}" for v in values]) + " \n"


def checkpoint_v1(raw):
    """A version-2 checkpoint as version 1 wrote it: no data CRC (the 4 bytes after the 80 of the
    training state), its CRC-32 made anew."""
    layers = struct.unpack_from("<I", raw, 16)[0]
    text_at = 20 + 4 * (layers + 1) + 8  # magic, version, value size, layers, sizes, parameter count
    crc_at = text_at + 4 + struct.unpack_from("<I", raw, text_at)[0] + 80
    body = raw[:8] + struct.pack("<I", 1) + raw[12:crc_at] + raw[crc_at + 4:-4]
    return body + struct.pack("<I", zlib.crc32(body))


def main(binary, out):
    seeds = {name: {} for name in ("idx", "usps", "data", "config", "checkpoint", "stepstate", "spec", "runfiles")}
    images = idx(0x08, [6, 4, 4], bytes((i * 37) % 256 for i in range(6 * 16)))
    labels = idx(0x08, [6], bytes([0, 1, 2, 0, 1, 2]))
    seeds["idx"] = {
        "images-u8": images,
        "labels-u8": labels,
        "labels-i32": idx(0x0C, [3], struct.pack(">3i", 0, 5, 2)),
        "images-f32": idx(0x0D, [2, 2, 2], struct.pack(">8f", 0, 0.25, 0.5, 1, 0, 0.125, 0.75, 1)),
        "images-f64": idx(0x0E, [1, 3], struct.pack(">3d", 0.1, 0.2, 0.3)),
        "truncated": images[:40],
        "trailing": labels + b"\x00",
        "absurd-dims": idx(0x08, [0xFFFFFFFF, 0xFFFFFFFF, 0xFFFFFFFF], b""),
        "images-u8.gz": gzip.compress(images, mtime=0),
        # What may follow a gzip member: another member (read on), zero padding (ignored).
        "members.gz": gzip.compress(images[:20], mtime=0) + gzip.compress(images[20:], mtime=0),
        "padded.gz": gzip.compress(labels, mtime=0) + b"\x00\x00",
    }
    # The data harness: an option byte (--valid, --train-limit; 0x40: images, not labels),
    # then the file.
    seeds["data"] = {
        "labels-u8": b"\x0a" + labels,
        "labels-i32": b"\x00" + seeds["idx"]["labels-i32"],
        "marker-255": b"\x11" + idx(0x08, [8], bytes([0, 1, 2, 255, 1, 0, 7, 2])),
        "images-u8": b"\x4a" + images,
        "images-f32": b"\x40" + seeds["idx"]["images-f32"],
        "images-f64": b"\x40" + seeds["idx"]["images-f64"],
    }
    values = [(-1 + (i % 9) / 4) for i in range(256)]
    seeds["usps"] = {
        "train-style": usps_line(6, values, False) + usps_line(3, values[::-1], False),
        "test-style": usps_line(9, values, True),
        "short-line": usps_line(1, values[:200], True),
        "nan": usps_line(2, values[:255] + [float("nan")], True),
    }
    # zlib reads a gzip file given raw: from here the fuzzer reaches corrupt gzip streams.
    seeds["usps"]["train-style.gz"] = gzip.compress(seeds["usps"]["train-style"].encode(), mtime=0)
    with tempfile.TemporaryDirectory() as tmp:
        for name in ("images-u8", "labels-u8"):
            open(os.path.join(tmp, name), "wb").write(seeds["idx"][name])
        # Relative paths (run inside tmp), so no machine path ends up in the seeds.
        data = ["--data", "idx:images-u8,labels-u8", "--valid", "2", "--hidden", "3",
                "--batch", "2", "--jac-lambda", "0.1", "--jac-noise", "0.2", "--jac-target", "output"]
        run = os.path.join(tmp, "run")
        binary = os.path.abspath(binary)
        subprocess.run([binary, "train", "--epochs", "1", "--progress", "never", "--out", "run"] + data,
                       check=True, stdout=subprocess.DEVNULL, cwd=tmp)
        subprocess.run([binary, "step", "--dump", "step.bin", "--input-noise", "0.1"] + data,
                       check=True, stdout=subprocess.DEVNULL, cwd=tmp)
        # Its data folder is this temporary one (where the relative names were found): left out.
        config = re.sub(rb"^data-dir=.*$", b"data-dir=", open(os.path.join(run, "config.txt"), "rb").read(),
                        flags=re.M)
        seeds["config"] = {
            "run-config": config,
            "comments": b"# a comment\n\nhidden = 1000,1000\n--lr=0.05\njac-target=hidden:2\njac-proj=exact\n",
            "bad-line": b"data=usps\nlr\n",
            "comment-after-value": b"momentum = 0.9999995\nlr = 0.1  # the paper's\n",
            "no-key": b"hidden = 8\n= 5\n",
            "overflow": b"epochs=99999999999999999999\n",
            # The file loader's cases: a NUL (refused; the text parser stops there), CRLF line
            # ends, no final newline, a byte-order mark.
            "nul": b"data = usps\n\0lr = 0.1\n",
            "crlf": b"data=usps\r\nlr = 0.05\r\n",
            "no-final-newline": b"hidden = 8\nlr=0.1",
            "bom": b"\xef\xbb\xbfepochs = 2\n",
        }
        seeds["checkpoint"] = {name: open(os.path.join(run, name), "rb").read() for name in ("last.ckpt", "best.ckpt")}
        seeds["checkpoint"]["last-v1.ckpt"] = checkpoint_v1(seeds["checkpoint"]["last.ckpt"])
        seeds["stepstate"] = {"step.bin": open(os.path.join(tmp, "step.bin"), "rb").read()}
        metrics = open(os.path.join(run, "metrics.jsonl"), "rb").read()
        summary = open(os.path.join(run, "summary.json"), "rb").read()
        seeds["runfiles"] = {
            "metrics.jsonl": metrics,
            "metrics-torn": metrics + metrics[:40],
            "metrics-null": metrics.replace(b'"valid_error":', b'"valid_error":null,"x":'),
            "summary.json": summary,
            "summary-null": summary.replace(b'"best_epoch": ', b'"best_valid_error": null, "best_epoch": '),
        }
    seeds["spec"] = {
        "grid": "# a grid\ndata = usps\nhidden = 1000\nlr = 0.05\njac-lambda = [0, 0.003, 0.03]  # every value\n"
                "jac-target = [hidden1, output]\nseeds = 3\n",
        "random": "data = mnist\nhidden = [\"500,500\", \"1000\"]\njac-lambda = log-uniform(1e-4, 1e-2)\n"
                  "jac-noise = uniform(0.05, 0.5)\nbatch = uniform(10, 100)\njac-proj = choice(1, 3, exact)\n"
                  "samples = 4\nsearch-seed = 7\n",
        "bad-key": "data = usps\nlearning-rate = 0.1\n",
        "bad-range": "jac-noise = log-uniform(0, 1)\nsamples = 2\n",
        # What the reader refuses before the parser: binary content; a run's config.txt, told apart.
        "nul": b"data = usps\n\0lr = 0.1\n",
        "run-config": config,
    }
    for harness, files in seeds.items():
        folder = os.path.join(out, harness)
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
        for name, content in files.items():
            with open(os.path.join(folder, name), "wb") as f:
                f.write(content if isinstance(content, bytes) else content.encode())
    print(f"seed corpus written to {out}")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: make_corpus.py JACNOISE_BIN OUT_FOLDER")
    main(sys.argv[1], sys.argv[2])
