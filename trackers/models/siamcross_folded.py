"""SiamCross's search branch rewritten for inference: the same function, ~2.5x less arithmetic
after the backbone.

The neck (1x1 conv + BN, no ReLU) widens the backbone's 96 channels to 256, and everything the
search features feed is linear in them until a ReLU, so the neck folds into its consumers:

* both ``conv_search`` layers (3x3 conv + BN, then ReLU), one 96 -> 512 convolution instead of
  two 256 -> 256 ones. The LUT attention adds ``alpha * m`` to every channel before them; its
  share is a 1 -> 512 convolution of ``m`` with the channel sums of the weights (no padding,
  so the neck's bias is a constant per output channel);
* the LUT affinity, x^T z with x = W f + c: f^T (W^T z) + c^T z, with W^T z from the template;
* the cross attention's channel Gram matrix X X^T over the search positions:
  W (f f^T) W^T + (W s) c^T + c (W s)^T + N c c^T, with s the sum of f over positions.

Only for one-level networks without a template crop in the neck (the stride-16 layout the
shipped weights use). Parameters are folded once, from the trained network, in float64.
``tests/test_siamcross_folded.py`` checks it against ``SiamCross.track``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from trackers.models.siamcross import SiamCross
from trackers.ops.xcorr import xcorr_depthwise


def foldable(model: SiamCross) -> bool:
    """One level (no level fusion) and no template crop in the neck."""
    return model.fuse is None and model.neck.num == 1 and not model.neck.downsample.center_size


def _conv_bn(seq: nn.Sequential) -> tuple[torch.Tensor, torch.Tensor]:
    """(weight, bias) of a bias-free conv followed by an eval-mode BatchNorm, in float64."""
    conv, bn = seq[0], seq[1]
    scale = bn.weight.double() / torch.sqrt(bn.running_var.double() + bn.eps)
    weight = conv.weight.double() * scale.view(-1, 1, 1, 1)
    return weight, bn.bias.double() - bn.running_mean.double() * scale


class FoldedSiamCross(SiamCross):
    """``SiamCross`` whose ``track`` runs the folded search branch; the template branch, the
    template mask and the heads after the correlations are the trained network's own modules."""

    def __init__(self, model: SiamCross) -> None:
        if not foldable(model):
            raise ValueError("only one-level SiamCross networks without a template crop fold")
        nn.Module.__init__(self)  # shares the trained modules; SiamCross.__init__ would build new ones
        self.backbone, self.neck, self.fuse = model.backbone, model.neck, None
        self.scan, self.oain, self.stride = model.scan, model.oain, model.stride
        self.zf = model.zf
        self.mask = model.mask
        with torch.no_grad():
            neck_w, neck_b = _conv_bn(model.neck.downsample.downsample)
            neck_w = neck_w.flatten(1)  # (C, Cin)
            weights, biases, mask_weights = [], [], []
            for branch in (model.oain.cls, model.oain.reg):
                w, b = _conv_bn(branch.conv_search)  # (C', C, 3, 3)
                weights.append(torch.einsum("ocyx,ci->oiyx", w, neck_w))
                biases.append(b + torch.einsum("ocyx,c->o", w, neck_b))
                mask_weights.append(float(model.scan.lut.alpha) * w.sum(1, keepdim=True))
            cin, hidden = neck_w.shape[1], weights[0].shape[0]
            dtype = model.oain.cls.conv_search[0].weight.dtype
            self.search = nn.Conv2d(cin, 2 * hidden, 3).to(dtype)
            self.search.weight.copy_(torch.cat(weights))
            self.search.bias.copy_(torch.cat(biases))
            self.search_mask = nn.Conv2d(1, 2 * hidden, 3, bias=False).to(dtype)
            self.search_mask.weight.copy_(torch.cat(mask_weights))
        self.register_buffer("neck_weight", neck_w.to(dtype), persistent=False)
        self.register_buffer("neck_bias", neck_b.to(dtype), persistent=False)
        self.to(next(model.parameters()).device)
        self.eval()

    def track(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        self._check_template()
        f = self.backbone(x)  # (B, Cin, H, W): the neck's input
        b, _, h, w = f.shape
        flat = f.flatten(2)  # (B, Cin, N)
        zf = self.zf.flatten(2)  # (B, C, Nz), the template's neck output
        w_n, c_n = self.neck_weight, self.neck_bias
        # LUT attention (LUTAttention): softmax over template cells of x^T z.
        affinity = torch.matmul(flat.transpose(1, 2), torch.matmul(w_n.t(), zf))
        affinity = affinity + torch.matmul(c_n, zf).unsqueeze(1)
        attn = torch.softmax(affinity, dim=-1)
        m = torch.bmm(attn, self.mask.reshape(b, -1, 1).to(f.dtype)).transpose(1, 2).reshape(b, 1, h, w)
        # Cross attention (CrossAttention): softmax(X X^T) re-mixes the template's channels.
        gram = torch.bmm(flat, flat.transpose(1, 2))  # (B, Cin, Cin)
        ws = torch.matmul(flat.sum(-1), w_n.t())  # (B, C): W s
        xxt = torch.matmul(torch.matmul(w_n, gram), w_n.t())
        outer = ws.unsqueeze(2) * c_n.view(1, 1, -1)
        xxt = xxt + outer + outer.transpose(1, 2) + (h * w) * torch.outer(c_n, c_n)
        cross = torch.bmm(torch.softmax(xxt, dim=-1), zf).reshape_as(self.zf)
        zf2 = self.zf + self.scan.cross.beta * cross
        # Both conv_search layers at once, on the neck's input, plus the LUT's share.
        search = F.relu(self.search(f) + self.search_mask(m))
        s_cls, s_reg = search.chunk(2, dim=1)
        oain = self.oain
        f_cls = xcorr_depthwise(s_cls, oain.cls.conv_kernel(zf2))
        f_reg = xcorr_depthwise(s_reg, oain.reg.conv_kernel(zf2))
        return oain.outputs(f_cls, f_reg)
