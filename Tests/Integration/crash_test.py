#!/usr/bin/env python3
"""crash_test.py NIS2CTL KILLS [DIR]

Crash test of the evidence log: a child `nis2ctl log append --ack` is fed records as fast
as it takes them and killed with SIGKILL at a random moment, KILLS times. After every kill:
  * every record the child acknowledged ("durable N") is present, byte for byte, in order;
  * `nis2ctl log verify` passes (a torn, unacknowledged tail may be noted, never a failure);
  * the next child reopens the log (recovery cuts any torn tail) and appends after it.
Exit 0 only if every round holds; prints one line per failure otherwise.
"""
import json, os, random, signal, subprocess, sys, tempfile, threading, time

def main():
    nis2ctl, kills = sys.argv[1], int(sys.argv[2])
    base = sys.argv[3] if len(sys.argv) > 3 else tempfile.mkdtemp(prefix="evidence-crash-")
    store = os.path.join(base, "store")
    run = lambda *a, **k: subprocess.run([nis2ctl, *a], capture_output=True, text=True, **k)
    r = run("init", "--store", store)
    assert r.returncode == 0, r.stderr
    assert run("tenant", "add", "--store", store, "--tenant", "acme").returncode == 0
    expected = {}          # index -> record text we sent, for every acknowledged index
    failures = []
    total_acked = 0
    for rnd in range(kills):
        size_before = count(run, store)
        child = subprocess.Popen([nis2ctl, "log", "append", "--store", store, "--tenant", "acme", "--ack"],
                                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        sent = []
        acked = [-1]
        def reader():
            for line in child.stdout:
                line = line.decode()
                if line.startswith("durable "):
                    acked[0] = int(line.split()[1])
        t = threading.Thread(target=reader, daemon=True); t.start()
        deadline = time.monotonic() + random.uniform(0.02, 0.4)
        j = 0
        try:
            while time.monotonic() < deadline:
                batch = []
                for _ in range(200):
                    rec = json.dumps({"round": rnd, "j": j, "pad": "p" * (j % 50)}, separators=(",", ":"), sort_keys=True)
                    sent.append(rec); batch.append(rec); j += 1
                child.stdin.write(("\n".join(batch) + "\n").encode())
                child.stdin.flush()
        except BrokenPipeError:
            pass
        child.send_signal(signal.SIGKILL)
        child.wait()
        t.join(timeout=5)
        last = acked[0]
        for idx in range(size_before, last + 1):
            expected[idx] = sent[idx - size_before]
        total_acked = max(total_acked, last + 1)
        v = run("log", "verify", "--store", store, "--tenant", "acme", "--json")
        if v.returncode != 0:
            failures.append(f"round {rnd}: verify failed after SIGKILL: {v.stdout.strip()} {v.stderr.strip()}")
            break
        # Reopen for writing (recovery), then read everything back.
        r = subprocess.run([nis2ctl, "log", "append", "--store", store, "--tenant", "acme", "--no-checkpoint"], input="", capture_output=True, text=True)
        if r.returncode != 0:
            failures.append(f"round {rnd}: reopen failed: {r.stderr.strip()}")
            break
        cat = run("log", "cat", "--store", store, "--tenant", "acme", "--from", str(size_before), "--json")
        got = {}
        for line in cat.stdout.splitlines():
            o = json.loads(line)
            got[o["index"]] = json.dumps(o["record"], separators=(",", ":"), sort_keys=True)
        for idx in range(size_before, last + 1):
            if got.get(idx) != expected[idx]:
                failures.append(f"round {rnd}: acknowledged record {idx} lost or changed (have {got.get(idx)!r}, sent {expected[idx]!r})")
                break
        if (rnd + 1) % 50 == 0:
            print(f"  {rnd + 1} SIGKILLs so far: {len(expected)} acknowledged records checked, {len(failures)} failures", flush=True)
    # Final full check of every acknowledged record across all rounds.
    cat = run("log", "cat", "--store", store, "--tenant", "acme", "--json")
    have = {json.loads(l)["index"]: json.dumps(json.loads(l)["record"], separators=(",", ":"), sort_keys=True) for l in cat.stdout.splitlines()}
    lost = [i for i, rec in expected.items() if have.get(i) != rec]
    if lost:
        failures.append(f"{len(lost)} acknowledged records missing at the end, first {lost[0]}")
    final = run("log", "verify", "--store", store)
    if final.returncode != 0:
        failures.append("final verify failed: " + final.stdout)
    for f in failures:
        print("FAIL", f)
    print(f"crash test: {kills} SIGKILLs, {len(expected)} acknowledged records checked, {count(run, store)} records in the log, {'OK' if not failures else 'FAILED'}")
    subprocess.run(["chmod", "-R", "u+w", base]); subprocess.run(["rm", "-rf", base])
    sys.exit(1 if failures else 0)

def count(run, store):
    v = run("log", "verify", "--store", store, "--tenant", "acme", "--json")
    return int(json.loads(v.stdout)["tenants"][0]["records"])

if __name__ == "__main__":
    main()
