#!/usr/bin/env python3
"""Writes the small training-log fixtures that `tune doctor`'s readers are tested on, with the real loggers:

    python3 tools/logs/make_log_fixtures.py       # rewrites Tests/TuneExportTests/Fixtures/*

- lightning_metrics.csv: PyTorch Lightning's CSVLogger (train_loss logged per step and per epoch, val_loss and
  val_acc per epoch), a tiny classifier that overfits 64 random rows for 8 epochs.
- keras_log.csv: Keras's CSVLogger (Keras 3 on the torch backend), the same kind of run.
- pytorch_tb/: PyTorch's SummaryWriter: `train/loss` every step (global step), `val/loss` and `val/acc` at each
  epoch's end (at the global step), the common pattern.
- pytorch_tb_epochs/: SummaryWriter with `Loss/train`, `Loss/val` and `Accuracy/val` per epoch (step = epoch).
- keras_tb/: Keras's TensorBoard callback (Keras 3 on TensorFlow: TF2 summaries, scalars stored as tensors, `train/`
  and `validation/` run directories).

Dev-time only: needs torch, lightning, keras, tensorboard and tensorflow-cpu (pip).
"""
import glob
import os
import shutil
import subprocess
import sys
import tempfile

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np
import torch

OUT = os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "TuneExportTests", "Fixtures")
rng = np.random.default_rng(0)
X = rng.normal(size=(96, 10)).astype(np.float32)
Y = (rng.random(96) < 0.5).astype(np.int64)  # random labels: the network can only memorise


def lightning_log():
    import lightning as L
    from lightning.pytorch.loggers import CSVLogger

    class Net(L.LightningModule):
        def __init__(self):
            super().__init__()
            self.net = torch.nn.Sequential(torch.nn.Linear(10, 64), torch.nn.ReLU(), torch.nn.Linear(64, 2))

        def training_step(self, batch, _):
            x, y = batch
            loss = torch.nn.functional.cross_entropy(self.net(x), y)
            self.log("train_loss", loss, on_step=True, on_epoch=True)
            return loss

        def validation_step(self, batch, _):
            x, y = batch
            out = self.net(x)
            self.log("val_loss", torch.nn.functional.cross_entropy(out, y))
            self.log("val_acc", (out.argmax(1) == y).float().mean())

        def configure_optimizers(self):
            return torch.optim.Adam(self.parameters(), lr=0.01)

    L.seed_everything(0)
    data = torch.utils.data.TensorDataset(torch.from_numpy(X[:64]), torch.from_numpy(Y[:64]))
    val = torch.utils.data.TensorDataset(torch.from_numpy(X[64:]), torch.from_numpy(Y[64:]))
    directory = tempfile.mkdtemp()
    trainer = L.Trainer(max_epochs=8, logger=CSVLogger(directory, name="run"), log_every_n_steps=1,
                        enable_checkpointing=False, enable_progress_bar=False, enable_model_summary=False)
    trainer.fit(Net(), torch.utils.data.DataLoader(data, batch_size=8, shuffle=True), torch.utils.data.DataLoader(val, batch_size=32))
    shutil.copy(os.path.join(directory, "run", "version_0", "metrics.csv"), os.path.join(OUT, "lightning_metrics.csv"))


def keras_log():
    import keras
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(64, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    path = os.path.join(OUT, "keras_log.csv")
    model.fit(X[:64], Y[:64].astype(np.float32), validation_data=(X[64:], Y[64:].astype(np.float32)), epochs=8, batch_size=8,
              verbose=0, callbacks=[keras.callbacks.CSVLogger(path)])


def pytorch_tb():
    from torch.utils.tensorboard import SummaryWriter
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(10, 64), torch.nn.ReLU(), torch.nn.Linear(64, 2))
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    x, y = torch.from_numpy(X[:64]), torch.from_numpy(Y[:64])
    xv, yv = torch.from_numpy(X[64:]), torch.from_numpy(Y[64:])
    for name, per_step in [("pytorch_tb", True), ("pytorch_tb_epochs", False)]:
        directory = os.path.join(OUT, name)
        shutil.rmtree(directory, ignore_errors=True)
        writer = SummaryWriter(directory)
        step = 0
        for epoch in range(8):
            losses = []
            for i in range(0, 64, 8):
                loss = torch.nn.functional.cross_entropy(net(x[i:i + 8]), y[i:i + 8])
                opt.zero_grad()
                loss.backward()
                opt.step()
                step += 1
                losses.append(float(loss))
                if per_step:
                    writer.add_scalar("train/loss", float(loss), step)
            with torch.no_grad():
                out = net(xv)
                val_loss = float(torch.nn.functional.cross_entropy(out, yv))
                acc = float((out.argmax(1) == yv).float().mean())
            if per_step:
                writer.add_scalar("val/loss", val_loss, step)
                writer.add_scalar("val/acc", acc, step)
            else:
                writer.add_scalar("Loss/train", sum(losses) / len(losses), epoch)
                writer.add_scalar("Loss/val", val_loss, epoch)
                writer.add_scalar("Accuracy/val", acc, epoch)
        writer.close()


def keras_tb():
    import keras
    keras.utils.set_random_seed(0)
    directory = os.path.join(OUT, "keras_tb")
    shutil.rmtree(directory, ignore_errors=True)
    model = keras.Sequential([keras.Input((10,)), keras.layers.Dense(64, activation="relu"), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.Adam(0.01), loss=keras.losses.BinaryCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    model.fit(X[:64], Y[:64].astype(np.float32), validation_data=(X[64:], Y[64:].astype(np.float32)), epochs=8, batch_size=8,
              verbose=0, callbacks=[keras.callbacks.TensorBoard(directory)])
    # Keep only the event files (the callback may also write graph or plugin files).
    for path in glob.glob(os.path.join(directory, "**", "*"), recursive=True):
        if os.path.isfile(path) and "tfevents" not in os.path.basename(path):
            os.remove(path)


if __name__ == "__main__":
    os.makedirs(OUT, exist_ok=True)
    if sys.argv[1:] == ["keras-tb"]:
        keras_tb()
        sys.exit(0)
    lightning_log()
    keras_log()
    pytorch_tb()
    subprocess.run([sys.executable, __file__, "keras-tb"], check=True, env={**os.environ, "KERAS_BACKEND": "tensorflow"})
    print("wrote", os.path.normpath(OUT))
