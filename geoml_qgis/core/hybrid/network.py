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
