"""The cache key of a built prediction graph (ONNX Runtime, OpenVINO): a sha256 over the recipe
that built it (format, library versions, config, kind) and every weight of the model, so a
graph is found again only for the same weights built the same way."""

from __future__ import annotations

import hashlib
import json


def weights_key(model, recipe: dict) -> str:
    """Hex sha256 of `recipe` (JSON, sorted keys) followed by each state_dict tensor's name and bytes."""
    digest = hashlib.sha256()
    digest.update(json.dumps(recipe, sort_keys=True, default=str).encode())
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().contiguous().numpy().tobytes())
    return digest.hexdigest()
