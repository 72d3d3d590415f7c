#!/usr/bin/env python3
"""Logs a small training run to an MLflow tracking server with MLflow's own client, for the tests of swift-tune's
MLflow reader: train_loss per step, and train_loss_epoch, val_loss and val_accuracy per epoch, shaped like an
overfitting run. Prints the run id.

    python3 tools/mlflow/log_run.py URL
"""
import math
import sys

import mlflow


def main():
    mlflow.set_tracking_uri(sys.argv[1])
    mlflow.set_experiment("swift-tune-tests")
    with mlflow.start_run() as run:
        step = 0
        for epoch in range(12):
            train = 0.6 * math.exp(-epoch / 3) + 0.02
            for i in range(10):
                mlflow.log_metric("train_loss", train * (1 + 0.01 * (i - 5)), step=step)
                step += 1
            mlflow.log_metric("train_loss_epoch", train, step=epoch)
            mlflow.log_metric("val_loss", 0.3 + 0.004 * (epoch - 4) ** 2, step=epoch)
            mlflow.log_metric("val_accuracy", 0.9 - 0.001 * (epoch - 6) ** 2, step=epoch)
    print(run.info.run_id)


if __name__ == "__main__":
    main()
