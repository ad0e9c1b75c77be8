"""The runtime checker (`bnlint confirm`): run the user's training script in a
child process with TensorFlow under instrumentation and mark each static
finding confirmed, refuted or not reached.

This package is the only place in bnlint that imports TensorFlow, and only
in the child process (`child.py` and the hook modules it installs). The
parent side (`command.py`, `launcher.py`, `verdict.py`, `render.py`) stays
import-light so `bnlint --help` and the linter never pay for TensorFlow.
"""
