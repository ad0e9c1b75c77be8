"""bnlint: find the train/inference-mode mistakes that silently break
TensorFlow/Keras models (BatchNormalization first)."""

__version__ = "0.2.0.dev0"
