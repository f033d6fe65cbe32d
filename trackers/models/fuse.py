"""Inference-time folding of BatchNorm into the convolution before it.

In eval mode a BatchNorm is a per-channel affine map, so ``conv -> bn`` equals one conv with
rescaled weights and a bias. Folding removes a third of the layers that small trackers run
per frame (NanoTrack, MobileNets), where per-layer overhead, not arithmetic, dominates on a
CPU. The result differs from the unfolded network only by float32 rounding (~1e-6 relative).
"""

from __future__ import annotations

from itertools import pairwise

from torch import nn
from torch.nn.utils.fusion import fuse_conv_bn_eval

# Pairs of attribute names where the module's forward applies the BN right after the conv
# (pysot / siamban ResNet Bottleneck and stem).
_NAMED_PAIRS = (("conv1", "bn1"), ("conv2", "bn2"), ("conv3", "bn3"))


def _foldable(conv: nn.Module, bn: nn.Module) -> bool:
    return (
        type(conv) is nn.Conv2d
        and type(bn) is nn.BatchNorm2d
        and bn.track_running_stats
        and conv.out_channels == bn.num_features
    )


def fold_batchnorm(model: nn.Module) -> int:
    """Fold every conv -> BN pair of an eval-mode model in place; returns how many were folded."""
    if model.training:
        raise ValueError("fold_batchnorm needs an eval-mode model (BN must use running statistics)")
    folded = 0
    for module in model.modules():
        if isinstance(module, nn.Sequential):
            names = list(module._modules)
            for a, b in pairwise(names):
                conv, bn = module._modules[a], module._modules[b]
                if _foldable(conv, bn):
                    module._modules[a] = fuse_conv_bn_eval(conv, bn)
                    module._modules[b] = nn.Identity()
                    folded += 1
        for conv_name, bn_name in _NAMED_PAIRS:
            conv, bn = getattr(module, conv_name, None), getattr(module, bn_name, None)
            if conv is not None and bn is not None and _foldable(conv, bn):
                setattr(module, conv_name, fuse_conv_bn_eval(conv, bn))
                setattr(module, bn_name, nn.Identity())
                folded += 1
    return folded
