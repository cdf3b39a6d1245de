#!/usr/bin/env python3
"""The integer engine against ONNX Runtime on the same trained ESPCN, interleaved in one run.

Builds the bundled ESPCN-8 (web/models/espcn-8bit.qnm) as an ONNX graph with the onnx helper
API from its dequantized weights (Conv -> Relu -> Conv -> Relu -> Conv -> DepthToSpace CRD),
quantizes it with onnxruntime's quantize_static (QDQ, int8 weights per channel, uint8
activations) calibrated on the same input, and times, round after round in one process:
the engine (core's `engine_timer` example, a long-lived subprocess timing itself), ORT fp32
and ORT int8 QDQ, on 1 thread (and 2 with --threads 1,2), plus any models `trainer export
--format onnx` wrote of the same network (--exported, e.g. its `qdq` and `exact` forms). Prints
medians and the median over rounds of engine time / ORT time in the same round.

  python3 scripts/bench-ort.py [--size 256] [--rounds 9] [--threads 1,2] [--json FILE] [--save DIR]
                               [--exported espcn.qdq.onnx espcn.exact.onnx]

Needs the pinned `onnx` and `onnxruntime` (`pip install -r scripts/requirements-bench.txt`) and builds the example with
cargo (release) unless --timer points at one.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

import numpy as np
import onnx
import onnxruntime as ort
from onnx import TensorProto, helper, numpy_helper
from onnxruntime.quantization import (
    CalibrationDataReader,
    QuantFormat,
    QuantType,
    quantize_static,
)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODEL = os.path.join(ROOT, "web", "models", "espcn-8bit.qnm")


def image(n):
    """The engine_timer's synthetic image, [1, 3, n, n] in [0, 1]."""
    c, y, x = np.meshgrid(np.arange(3), np.arange(n), np.arange(n), indexing="ij")
    v = 0.5 + 0.45 * (np.sin(x.astype(np.float32) * 0.05 + c) * np.cos(y.astype(np.float32) * 0.07))
    return v.astype(np.float32)[None]


def build_fp32(convs, path):
    nodes, inits = [], []
    cur = "input"
    for i, c in enumerate(convs):
        w = np.array(c["weights"], dtype=np.float32).reshape(
            c["cout"], c["cin"] // c["groups"], c["kh"], c["kw"]
        )
        inits.append(numpy_helper.from_array(w, f"{c['name']}.w"))
        if i > 0:  # the first conv reads the image in [0, 1]; the others a ReLU'd input
            nodes.append(helper.make_node("Relu", [cur], [f"{c['name']}.in"]))
            cur = f"{c['name']}.in"
        ph, pw = c["padding"]
        nodes.append(
            helper.make_node(
                "Conv",
                [cur, f"{c['name']}.w"],
                [c["name"]],
                group=c["groups"],
                pads=[ph, pw, ph, pw],
                strides=[c["stride"], c["stride"]],
            )
        )
        cur = c["name"]
    nodes.append(helper.make_node("DepthToSpace", [cur], ["output"], blocksize=4, mode="CRD"))
    graph = helper.make_graph(
        nodes,
        "espcn",
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, "H", "W"])],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 3, "H4", "W4"])],
        inits,
    )
    # IR 8 (opset 17's), which every current runtime reads (onnxruntime-web 1.30 stops at 13).
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
    onnx.checker.check_model(model)
    onnx.save(model, path)


class OneImage(CalibrationDataReader):
    def __init__(self, x):
        self.items = iter([{"input": x}])

    def get_next(self):
        return next(self.items, None)


def session(path, threads):
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    return ort.InferenceSession(path, so, providers=["CPUExecutionProvider"])


class Engine:
    def __init__(self, timer, size, threads):
        self.p = subprocess.Popen(
            [timer, MODEL, "--size", str(size), "--threads", str(threads)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.kernel = self.p.stderr.readline().strip()

    def run(self):
        self.p.stdin.write("run\n")
        self.p.stdin.flush()
        return float(self.p.stdout.readline())

    def close(self):
        self.p.stdin.close()
        self.p.wait()


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--threads", default="1")
    ap.add_argument("--timer", help="path of a built engine_timer example")
    ap.add_argument("--json")
    ap.add_argument("--save", help="keep the two ONNX models in this folder (for web/tests/bench-ort.mjs)")
    ap.add_argument("--exported", nargs="*", default=[],
                    help="ONNX files `trainer export` wrote of web/models/espcn-8bit.qnm, timed too")
    a = ap.parse_args()
    timer = a.timer
    if not timer:
        subprocess.run(
            ["cargo", "build", "--release", "-q", "-p", "quantnas-core", "--features", "threads",
             "--example", "engine_timer"],
            cwd=ROOT,
            check=True,
        )
        target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
        timer = os.path.join(target, "release", "examples", "engine_timer")
    convs = json.loads(subprocess.run([timer, MODEL, "--dump-convs"], capture_output=True, text=True, check=True).stdout)["convs"]
    x = image(a.size)
    tmp = a.save or tempfile.mkdtemp(prefix="bench-ort-")
    os.makedirs(tmp, exist_ok=True)
    fp32, int8 = os.path.join(tmp, "espcn.onnx"), os.path.join(tmp, "espcn.int8.onnx")
    build_fp32(convs, fp32)
    quantize_static(
        fp32, int8, OneImage(x), quant_format=QuantFormat.QDQ, per_channel=True,
        activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8,
    )
    results = {}
    print(f"ESPCN-8 trained, {a.size}x{a.size} -> {4*a.size}x{4*a.size}, onnxruntime {ort.__version__}, "
          f"{a.rounds} interleaved rounds")
    for threads in [int(t) for t in a.threads.split(",")]:
        eng = Engine(timer, a.size, threads)
        sessions = {"ORT fp32": session(fp32, threads), "ORT int8 QDQ": session(int8, threads)}
        for path in a.exported:
            sessions[f"ORT on export {os.path.basename(path)}"] = session(path, threads)
        runners = {f"engine ({eng.kernel.split(': ')[-1]})": eng.run}
        for name, s in sessions.items():
            runners[name] = (lambda s=s: _time(lambda: s.run(None, {"input": x})))
        for r in runners.values():  # warm-up
            r()
        ms = {k: [] for k in runners}
        for _ in range(a.rounds):
            for k, r in runners.items():
                ms[k].append(r())
        eng.close()
        ename = next(iter(runners))
        print(f"\n{threads} thread(s):")
        print(f"  {'variant':<44} {'median ms':>9} {'engine / it (median per round)':>31}")
        for k, v in ms.items():
            ratio = statistics.median(e / o for e, o in zip(ms[ename], v))
            print(f"  {k:<44} {statistics.median(v):>9.1f} {ratio:>31.3f}")
            results[f"{k} x{threads}"] = {"ms": v, "median_ms": statistics.median(v), "engine_over_this": ratio}
    if a.json:
        with open(a.json, "w") as f:
            json.dump(results, f, indent=1)


def _time(f):
    t = time.perf_counter()
    f()
    return (time.perf_counter() - t) * 1e3


if __name__ == "__main__":
    sys.exit(main())
