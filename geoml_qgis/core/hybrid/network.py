"""The Conv1D + BiLSTM network: a learned correction added to the kriging estimate."""
from __future__ import annotations

import torch
from torch import nn


class HybridNet(nn.Module):
    """Conv1D over the neighbour sequence -> bidirectional LSTM -> dense head.

    Input ``seq (b, k, c_seq)`` (nearest neighbour first) and ``target (b, c_target)`` whose
    column 0 is the standardized kriging estimate. Output ``(b,)``: kriging estimate + correction.
    The head's last layer starts at zero, so an untrained network *is* ordinary kriging and
    training only moves away from it where that lowers the loss.
    """

    def __init__(self, c_seq: int, c_target: int, conv: int = 16, hidden: int = 16, dense: int = 32):
        super().__init__()
        self.hidden = hidden
        self.conv = nn.Sequential(
            nn.Conv1d(c_seq, conv, kernel_size=3, padding=1), nn.ReLU(),
            nn.Conv1d(conv, conv, kernel_size=3, padding=1), nn.ReLU(),
        )
        self.lstm = nn.LSTM(conv, hidden, batch_first=True, bidirectional=True)
        self.head = nn.Sequential(nn.Linear(2 * hidden + c_target, dense), nn.ReLU(), nn.Linear(dense, 1))
        nn.init.zeros_(self.head[-1].weight)
        nn.init.zeros_(self.head[-1].bias)

    def correction(self, seq: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        h = self.conv(seq.transpose(1, 2)).transpose(1, 2)
        out, _ = self.lstm(h)
        summary = torch.cat([out[:, -1, :self.hidden], out[:, 0, self.hidden:]], dim=1)
        return self.head(torch.cat([summary, target], dim=1)).squeeze(1)

    def forward(self, seq: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return target[:, 0] + self.correction(seq, target)


class EnsembleNet(nn.Module):
    """The corrections of several trained :class:`HybridNet` members in one forward pass (inference only).

    Output ``(members, b)``: each member's correction scaled by its shrink factor, equal to the members'
    :meth:`HybridNet.correction` up to float rounding. The convolutions run as matrix products on the
    batch's sequences laid out time-major (step l of every sequence, then step l + 1, with a zero step
    before and after as padding): output step l of a kernel-3 convolution is
    ``x[l - 1] @ W0 + x[l] @ W1 + x[l + 1] @ W2``, three products of shifted contiguous views (a
    convolution layer on so few channels spent most of its time outside the arithmetic). The members'
    first convolutions read the same sequence, so they run as one product with all members' filters;
    the heads as one batched product. Only the LSTMs stay per member.
    """

    def __init__(self, nets: list[HybridNet], shrink: list[float]):
        super().__init__()
        first = nets[0]
        self.members, self.hidden, self.width = len(nets), first.hidden, first.conv[0].out_channels
        with torch.no_grad():
            # (shift, in, out) weights: conv1 with every member's filters side by side, conv2 per member
            self.register_buffer("c1w", torch.cat([n.conv[0].weight for n in nets]).permute(2, 1, 0).contiguous())
            self.register_buffer("c1b", torch.cat([n.conv[0].bias for n in nets]))
            self.register_buffer("c2w", torch.stack([n.conv[2].weight.permute(2, 1, 0) for n in nets]).contiguous())
            self.register_buffer("c2b", torch.stack([n.conv[2].bias for n in nets]))
            s = torch.tensor(shrink, dtype=torch.float32)[:, None, None]
            self.register_buffer("w1", torch.stack([n.head[0].weight.T for n in nets]).contiguous())  # (m, in, dense)
            self.register_buffer("b1", torch.stack([n.head[0].bias for n in nets])[:, None, :])
            self.register_buffer("w2", torch.stack([n.head[2].weight.T for n in nets]) * s)  # (m, dense, 1)
            self.register_buffer("b2", torch.stack([n.head[2].bias for n in nets])[:, None, :] * s)
        # each member's bidirectional LSTM as two one-way LSTMs reading time-major input (the layout the
        # convolutions produce), the second on the reversed sequence: the same states, without the
        # bidirectional layer's joined output sequence (12 % less time in a one-core test)
        self.lstms = nn.ModuleList()
        for n in nets:
            sd = n.lstm.state_dict()
            for reverse in (False, True):
                one_way = nn.LSTM(n.lstm.input_size, n.lstm.hidden_size)
                one_way.load_state_dict({k.replace("_reverse", ""): v for k, v in sd.items()
                                         if k.endswith("_reverse") == reverse})
                self.lstms.append(one_way)

    @staticmethod
    def _conv(x: torch.Tensor, w: torch.Tensor, bias: torch.Tensor, out: torch.Tensor, b: int) -> None:
        """Kernel-3 convolution + ReLU of *b* time-major sequences ``x ((k + 2) b, c_in)`` (a zero step
        before and after) into the middle ``k b`` rows of *out* ``((k + 2) b, c_out)``."""
        rows = x.shape[0]
        o = out[b:rows - b]
        torch.addmm(bias, x[:rows - 2 * b], w[0], out=o)
        o.addmm_(x[b:rows - b], w[1])
        o.addmm_(x[2 * b:], w[2])
        o.clamp_(min=0)

    def forward(self, seq: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        b, k, c = seq.shape
        m, width, hid = self.members, self.width, self.hidden
        x = seq.new_empty(k + 2, b, c)  # time-major: step l of every sequence, then step l + 1
        x[1:k + 1] = seq.transpose(0, 1)
        x[0] = x[k + 1] = 0
        h1 = seq.new_empty(k + 2, b, m * width)
        h1[0] = h1[k + 1] = 0
        self._conv(x.view(-1, c), self.c1w, self.c1b, h1.view(-1, m * width), b)
        h1 = h1.view(-1, m * width)
        summary = seq.new_empty(m, b, 2 * hid + target.shape[1])
        h2 = seq.new_empty(k + 2, b, width)
        for i in range(m):
            self._conv(h1[:, i * width:(i + 1) * width], self.c2w[i], self.c2b[i], h2.view(-1, width), b)
            steps = h2[1:k + 1]
            _, (last, _) = self.lstms[2 * i](steps)  # forward state after step k
            summary[i, :, :hid] = last[0]
            _, (last, _) = self.lstms[2 * i + 1](steps.flip(0))  # backward state after step 1
            summary[i, :, hid:2 * hid] = last[0]
        summary[:, :, 2 * hid:] = target
        dense = torch.relu(torch.baddbmm(self.b1, summary, self.w1))
        return torch.baddbmm(self.b2, dense, self.w2).squeeze(2)
