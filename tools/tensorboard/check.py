"""Reads a TensorBoard log directory back through the real TensorBoard: starts `tensorboard --logdir DIR` on
127.0.0.1 (a free port), and asks its HTTP data API for the runs, each run's scalars of TAG, and the HParams plugin's
session groups. When the server cannot start, reads the same through TensorBoard's Python EventAccumulator and
hparams plugin data instead (and says so). Prints one JSON object:
{"source": "http"|"event_accumulator", "runs": [...], "scalars": {run: [[step, value], ...]},
 "groups": [{"name", "hparams", "status"}], "hparam_names": [...], "text": {run: {tag: text}}}

  python3 tools/tensorboard/check.py LOGDIR TAG

Used by swift-tune's tests (a dev-time check; swift-tune never runs Python)."""
import json, os, socket, subprocess, sys, time, urllib.request


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http(logdir, tag):
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "tensorboard.main", "--logdir", logdir, "--host", "127.0.0.1",
                               "--port", str(port)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.time() + 60
        while True:
            try:
                runs = json.load(urllib.request.urlopen(base + "/data/runs", timeout=5))
                if runs:
                    break
            except Exception:
                pass
            if time.time() > deadline or server.poll() is not None:
                return None
            time.sleep(0.5)
        def post(path, body):
            request = urllib.request.Request(base + path, data=json.dumps(body).encode(), headers={"Content-Type": "application/json"})
            return json.load(urllib.request.urlopen(request, timeout=30))
        scalars = {}
        for run in runs:
            try:
                q = urllib.parse.urlencode({"run": run, "tag": tag})
                scalars[run] = [[p[1], p[2]] for p in json.load(urllib.request.urlopen(f"{base}/data/plugin/scalars/scalars?{q}", timeout=30))]
            except Exception:
                pass
        experiment = post("/data/plugin/hparams/experiment", {"experimentName": ""})
        groups = post("/data/plugin/hparams/session_groups", {
            "experimentName": "", "allowedStatuses": ["STATUS_UNKNOWN", "STATUS_SUCCESS", "STATUS_FAILURE", "STATUS_RUNNING"],
            "colParams": [], "startIndex": 0, "sliceSize": 1000})
        return {"source": "http", "runs": runs, "scalars": scalars,
                "hparam_names": sorted(h["name"] for h in experiment.get("hparamInfos", [])),
                "groups": [{"name": g["name"], "hparams": g["hparams"], "status": g["sessions"][0].get("status", "")}
                           for g in groups.get("sessionGroups", [])]}
    finally:
        server.terminate()
        server.wait()


def accumulator(logdir, tag):
    from tensorboard.backend.event_processing.event_multiplexer import EventMultiplexer
    from tensorboard.plugins.hparams import plugin_data_pb2
    mux = EventMultiplexer()
    mux.AddRunsFromDirectory(logdir)
    mux.Reload()
    out = {"source": "event_accumulator", "runs": sorted(mux.Runs()), "scalars": {}, "groups": [], "hparam_names": []}
    for run in mux.Runs():
        acc = mux.GetAccumulator(run)
        tags = acc.Tags()
        if tag in tags.get("scalars", []):
            out["scalars"][run] = [[e.step, e.value] for e in acc.Scalars(tag)]
        content = mux.PluginRunToTagToContent("hparams").get(run, {})
        start = content.get("_hparams_/session_start_info")
        end = content.get("_hparams_/session_end_info")
        experiment = content.get("_hparams_/experiment")
        if experiment:
            data = plugin_data_pb2.HParamsPluginData.FromString(experiment)
            out["hparam_names"] = sorted(h.name for h in data.experiment.hparam_infos)
        if start:
            data = plugin_data_pb2.HParamsPluginData.FromString(start)
            hp = {}
            for k, v in data.session_start_info.hparams.items():
                kind = v.WhichOneof("kind")
                hp[k] = getattr(v, kind)
            status = ""
            if end:
                from tensorboard.plugins.hparams import api_pb2
                status = api_pb2.Status.Name(plugin_data_pb2.HParamsPluginData.FromString(end).session_end_info.status)
            out["groups"].append({"name": run, "hparams": hp, "status": status})
    return out


def main():
    logdir, tag = sys.argv[1], sys.argv[2]
    # A parent may hand down blocked signals (Foundation's Process does); TensorBoard's server threads need them.
    import signal
    signal.pthread_sigmask(signal.SIG_SETMASK, [])
    result = None
    if os.environ.get("TUNE_TENSORBOARD_NO_SERVER") != "1":
        result = http(logdir, tag)
    if result is None:
        result = accumulator(logdir, tag)
    print(json.dumps(result))


if __name__ == "__main__":
    import urllib.parse
    main()
