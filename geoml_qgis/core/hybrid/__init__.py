"""Hybrid geostatistical deep learning: kriging features + Conv1D + BiLSTM (torch; import lazily)."""
