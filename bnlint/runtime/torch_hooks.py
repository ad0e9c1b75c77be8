"""PyTorch: `optimizer.step()` of any `torch.optim` optimizer is one step.

Through torch's own global hooks (`register_optimizer_step_pre_hook` /
`register_optimizer_step_post_hook`, torch >= 2.0), so every optimizer
class, including the user's own subclasses, is seen. A Keras optimizer on
the PyTorch backend is counted by its `apply` (step_hooks.py). With Keras 3
on PyTorch, a layer called while torch's grad mode is on (not under
`torch.no_grad()` / `torch.inference_mode()`) counts as training code, as a
call inside a GradientTape does.
"""

from __future__ import annotations

import sys

from . import recorder as _rec


def torch_grad_enabled() -> bool:
    """Whether torch records gradients now (False when torch is not loaded)."""
    torch = sys.modules.get("torch")
    return bool(torch is not None and torch.is_grad_enabled())


def _before_step(optimizer, args, kwargs):
    rec = _rec.RECORDER
    if rec is not None:
        rec.step_starting()  # raises StepLimitReached into the user's loop after --max-steps
    return None


def _after_step(optimizer, args, kwargs):
    rec = _rec.RECORDER
    if rec is not None:
        rec.step_finished("torch.optim")


def instrument_torch(torch_module) -> None:
    """Register the global optimizer step hooks (once)."""
    from torch.optim import optimizer

    if getattr(instrument_torch, "done", False):
        return
    instrument_torch.done = True
    optimizer.register_optimizer_step_pre_hook(_before_step)
    optimizer.register_optimizer_step_post_hook(_after_step)
