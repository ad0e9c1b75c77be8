"""Measure what `bnlint confirm` adds over a plain `python train.py`.

Writes a small CNN training script (Conv2D + BatchNormalization + Dropout,
3 optimizer steps in a tf.function loop, 64 random 32x32x3 images) to a temp
directory, then alternates plain runs and confirm runs and prints the median
wall-clock times. The confirm child ends with os._exit (skipping TensorFlow's
slow interpreter teardown), so a plain run that also skips it is measured too:
that difference is the cost of the instrumentation and of bnlint itself.
Usage: python tests/runtime/measure_overhead.py [rounds]
"""

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

TRAIN = '''
import numpy as np
import tensorflow as tf

model = tf.keras.Sequential([
    tf.keras.Input((32, 32, 3)),
    tf.keras.layers.Conv2D(16, 3, activation="relu"),
    tf.keras.layers.BatchNormalization(),
    tf.keras.layers.MaxPooling2D(),
    tf.keras.layers.Conv2D(32, 3, activation="relu"),
    tf.keras.layers.BatchNormalization(),
    tf.keras.layers.GlobalAveragePooling2D(),
    tf.keras.layers.Dropout(0.3),
    tf.keras.layers.Dense(10),
])
optimizer = tf.keras.optimizers.Adam(1e-3)
loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
rng = np.random.RandomState(0)
x = rng.rand(64, 32, 32, 3).astype("float32")
y = rng.randint(0, 10, size=64)


@tf.function
def train_step(images, labels):
    with tf.GradientTape() as tape:
        loss = loss_fn(labels, model(images, training=True))
    grads = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(grads, model.trainable_variables))
    return loss


for step in range(3):
    train_step(x, y)
'''


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)  # all waited-for descendants
    return usage.ru_utime + usage.ru_stime


def timed(cmd, cwd):
    """(wall seconds, CPU seconds of the process tree); CPU time is the steadier
    number on a shared machine."""
    cpu = _cpu()
    start = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True,
                          env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", CI="1"))
    elapsed = time.perf_counter() - start, _cpu() - cpu
    if proc.returncode != 0 or ("confirm" in cmd and "Run: the script finished" not in proc.stdout):
        raise SystemExit(f"{cmd} failed:\n{proc.stdout}\n{proc.stderr}")
    return elapsed


def main() -> None:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 5
    with tempfile.TemporaryDirectory() as tmp:
        with open(os.path.join(tmp, "train.py"), "w") as fh:
            fh.write(TRAIN)
        commands = {
            "python train.py": [sys.executable, "train.py"],
            "python train.py, no teardown": [
                sys.executable, "-c",
                "import os, runpy; runpy.run_path('train.py', run_name='__main__'); os._exit(0)"],
            "bnlint confirm train.py": [sys.executable, "-m", "bnlint", "confirm", "train.py"],
        }
        timed(commands["python train.py"], tmp)  # warm the file cache once
        times = {name: [] for name in commands}
        for _ in range(rounds):
            for name, cmd in commands.items():
                times[name].append(timed(cmd, tmp))
    for i, what in ((0, "wall"), (1, "cpu")):
        medians = {name: statistics.median(t[i] for t in ts) for name, ts in times.items()}
        for name, ts in times.items():
            shown = ", ".join(f"{t[i]:.2f}" for t in ts)
            print(f"{what:4s} {name:30s} median {medians[name]:.2f}s  ({shown})")
        c = medians["bnlint confirm train.py"]
        for base in ("python train.py", "python train.py, no teardown"):
            print(f"{what:4s} overhead vs {base}: {c - medians[base]:+.2f}s over {rounds} rounds")


if __name__ == "__main__":
    main()
