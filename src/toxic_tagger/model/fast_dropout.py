"""Dropout whose random mask costs a fraction of torch's on CPUs outside Intel's MKL path.

torch's CPU `dropout` draws one Bernoulli sample per element; outside Intel CPUs (where it
uses MKL's parallel generator) that is a serial loop, then a divide and a multiply, and a
MiniLM training step calls it 14 times.
`FastDropout` draws 64-bit random integers from the same seeded torch generator and cuts each
into four 15-bit uniforms (the low 15 bits of each 16-bit piece: `random_()` fills bits 0-62,
so only a top bit, never used, is constant), keeps an element when its uniform is at or above
p (p rounded to 1/32,768), and scales kept ones by 1 / (1 - p): the same distribution as
`nn.Dropout`, other random numbers, with one draw per four elements and no serial loop
(timings in docs/performance.md). On other devices, and in eval mode, it is `nn.Dropout` itself.

    replace_dropout(model)   # every nn.Dropout in model -> FastDropout with the same p
"""

from __future__ import annotations

import torch

LEVELS = 1 << 15  # distinct values of one 15-bit uniform
PIECES = 4  # 16-bit pieces per 64-bit draw


def scale_mask(shape: torch.Size, p: float, generator: torch.Generator | None = None) -> torch.Tensor:
    """float32 tensor of `shape`: 1 / (1 - p) with probability 1 - p, else 0 (p rounded to
    1/32,768). Built with int16 / float arithmetic only, because a comparison to bool and a
    bool-to-float cast each cost more than that arithmetic on CPU."""
    count = shape.numel()
    draws = torch.empty(-(-count // PIECES), dtype=torch.int64).random_(generator=generator)
    uniform = torch.bitwise_and(draws.view(torch.int16)[:count], LEVELS - 1)  # 0..32767, one per piece
    # Kept when uniform >= threshold: (uniform - threshold + 1) clamped to [0, 1] is exactly 0 or 1.
    threshold = round(p * LEVELS)
    mask = uniform.to(torch.float32).sub_(threshold - 1).clamp_(0, 1)
    return mask.mul_(1.0 / (1.0 - p)).view(shape)


class FastDropout(torch.nn.Dropout):
    """`nn.Dropout` (same `p`, same module type for code that reads `.p`) with `scale_mask`
    masks on CPU tensors in training mode. `inplace` is ignored: the output is a new tensor."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0 or x.device.type != "cpu":
            return super().forward(x)
        if self.p == 1:
            return torch.zeros_like(x)
        return x * scale_mask(x.shape, self.p).to(x.dtype)  # the mask needs no gradient


def replace_dropout(model: torch.nn.Module) -> int:
    """Swap every `nn.Dropout` submodule of `model` for a `FastDropout` with the same p, in
    place; return how many were swapped. Weights and state_dict keys are untouched (dropout
    has no parameters), so save_pretrained writes the same files."""
    swapped = 0
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if type(child) is torch.nn.Dropout:
                setattr(parent, name, FastDropout(child.p).train(child.training))  # keep the mode
                swapped += 1
    return swapped
