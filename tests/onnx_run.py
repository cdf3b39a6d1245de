#!/usr/bin/env python3
"""Runs exported ONNX models in ONNX Runtime for trainer/tests/onnx_export.rs.

Usage: onnx_run.py MANIFEST.json [--optimized DIR]

The manifest lists jobs: {"model": PATH.onnx, "inputs": [{"input": PATH, "shape": [1, 3,
H, W], "output": PATH}]}. Each model is first checked with onnx.checker (full check, with
shape inference), then run on the CPU provider for each input (raw little-endian float32,
NCHW); the output tensor is written as raw float32 to "output". All comparisons are made
by the Rust test, so this script only checks and runs. With --optimized, ONNX Runtime's
optimized graph of each model is saved to DIR and its op counts printed (what ORT fuses).
"""

import collections
import json
import os
import sys
import time

import numpy as np
import onnx
import onnxruntime as ort


def main() -> int:
    manifest = json.load(open(sys.argv[1]))
    optimized = None
    if "--optimized" in sys.argv:
        optimized = sys.argv[sys.argv.index("--optimized") + 1]
    t0 = time.time()
    for job in manifest["jobs"]:
        path = job["model"]
        onnx.checker.check_model(path, full_check=True)
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        opts.inter_op_num_threads = 1
        if optimized:
            out = os.path.join(optimized, os.path.basename(path))
            opts.optimized_model_filepath = out
            # Extended: the level that fuses QDQ groups into integer ops, without the
            # machine-specific NCHWc layout ORT_ENABLE_ALL adds.
            opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
        session = ort.InferenceSession(path, opts, providers=["CPUExecutionProvider"])
        name = session.get_inputs()[0].name
        for item in job["inputs"]:
            x = np.fromfile(item["input"], dtype="<f4").reshape(item["shape"])
            (y,) = session.run(None, {name: x})
            np.ascontiguousarray(y, dtype="<f4").tofile(item["output"])
        if optimized:
            ops = collections.Counter(n.op_type for n in onnx.load(out).graph.node)
            print(f"{os.path.basename(path)}: {dict(sorted(ops.items()))}")
    print(f"onnx_run: {len(manifest['jobs'])} models checked and run in {time.time() - t0:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
