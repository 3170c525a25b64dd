#!/usr/bin/env bash
# Builds the gateway and CPU worker images with podman and runs them the way
# the rendered Deployments do: uid 10001, read-only root filesystem, a tmpfs
# at /tmp, no capabilities, no privilege escalation, the rendered ConfigMap's
# switchyard.yaml mounted at /etc/switchyard and an API-key file at
# /etc/switchyard-keys (as the Secret would be), REDIS_URL in the
# environment. Each worker container serves one variant on the rendered port
# behind its own loopback address; the gateway container resolves the
# rendered Service names to them (--add-host), so the config is used as
# rendered. Then: one inference through the gateway container must answer
# 200 with the routed variant's version, and SIGTERM must drain the gateway
# (exit 0).
# The edge-worker image runs each rendered sidecar of the gateway pod the same
# way (its rendered command line, environment, module items and memory and
# CPU limits, which podman must report back as set; on the host's loopback
# as in a pod): its exec probe must pass inside the container, and
# POST /predict through the gateway container must be answered 200 by the
# seed-predict sidecar calling the model worker back through the gateway.
#
# No registry is reachable here: when the Dockerfiles' base image is not in
# local storage, a stand-in is built (debootstrapped Debian bookworm + this
# machine's Node and npm) and imported under the FROM name. Settings that work
# on these machines (runc, ulimits) come from a private containers.conf.
#
# The images run the compiled dist/ entries (no TypeScript loader at run time).
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$(pwd)

for tool in podman buildah debootstrap runc node npm curl; do
  command -v "$tool" >/dev/null || { echo "podman-images: '$tool' is missing (apt-get install podman buildah debootstrap runc)" >&2; exit 1; }
done

WORK=$(mktemp -d /tmp/switchyard-images.XXXXXX)
RUN_ID=$$
CONTAINERS=()
cleanup() {
  for c in "${CONTAINERS[@]}"; do podman rm -f "$c" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT

cat >"$WORK/containers.conf" <<'CONF'
[containers]
default_ulimits = ["nofile=20000:20000", "nproc=32768:32768"]
[engine]
runtime = "runc"
CONF
export CONTAINERS_CONF="$WORK/containers.conf"

BASE=docker.io/library/node:20.19-bookworm-slim
DEBIAN=docker.io/library/debian:bookworm-slim
if ! podman image exists "$BASE" || ! podman image exists "$DEBIAN"; then
  echo "== stand-ins for $DEBIAN and $BASE: debootstrapped bookworm (+ this machine's Node $(node --version))"
  debootstrap --variant=minbase bookworm "$WORK/rootfs" http://deb.debian.org/debian >"$WORK/debootstrap.log" 2>&1 \
    || { tail -20 "$WORK/debootstrap.log" >&2; exit 1; }
  rm -rf "$WORK/rootfs/var/cache/apt/archives/"*.deb
  if ! podman image exists "$DEBIAN"; then
    tar -C "$WORK/rootfs" -c . | podman import --change 'CMD ["bash"]' - "$DEBIAN" >/dev/null
  fi
  if ! podman image exists "$BASE"; then
    NODE_PREFIX=$(dirname "$(dirname "$(readlink -f "$(command -v node)")")")
    install -D "$(readlink -f "$(command -v node)")" "$WORK/rootfs/usr/local/bin/node"
    mkdir -p "$WORK/rootfs/usr/local/lib/node_modules"
    cp -a "$(npm root -g)/npm" "$WORK/rootfs/usr/local/lib/node_modules/npm"
    ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$WORK/rootfs/usr/local/bin/npm"
    ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$WORK/rootfs/usr/local/bin/npx"
    tar -C "$WORK/rootfs" -c . | podman import --change 'CMD ["node"]' - "$BASE" >/dev/null
    echo "   (node prefix was $NODE_PREFIX)"
  fi
  rm -rf "$WORK/rootfs"
fi

CA=${NODE_EXTRA_CA_CERTS:-/etc/ssl/certs/ca-certificates.crt}
build() { # name dockerfile
  echo "== build $1"
  podman build --pull=never --network=host --secret "id=npm-ca,src=$CA" -f "mesh/docker/$2" -t "$1" . >"$WORK/build-$2.log" 2>&1 \
    || { tail -40 "$WORK/build-$2.log" >&2; exit 1; }
}
build localhost/switchyard/gateway:ci gateway.Dockerfile
build localhost/switchyard/model-worker:ci worker.Dockerfile
build localhost/switchyard/edge-worker:ci edge-worker.Dockerfile

echo "== image sizes (podman's uncompressed size)"
for image in localhost/switchyard/gateway:ci localhost/switchyard/model-worker:ci localhost/switchyard/edge-worker:ci; do
  printf '   %-42s %s MB\n' "$image" $(( $(podman image inspect --format '{{.Size}}' "$image") / 1000000 ))
done
if podman run --rm --network=none localhost/switchyard/gateway:ci test -e node_modules/onnxruntime-node; then
  echo "podman-images: the gateway image carries onnxruntime-node" >&2; exit 1
fi
if podman run --rm --network=none localhost/switchyard/edge-worker:ci sh -c 'command -v node || command -v npm'; then
  echo "podman-images: the edge-worker image carries Node or npm" >&2; exit 1
fi
PLATFORMS=$(podman run --rm --network=none localhost/switchyard/model-worker:ci sh -c 'cd node_modules/onnxruntime-node/bin/napi-v6 && ls -d */*')
[ "$PLATFORMS" = "linux/x64" ] || { echo "podman-images: worker image carries ONNX Runtime for: $PLATFORMS" >&2; exit 1; }

echo "== run with the Deployments' security context"
mkdir -p "$WORK/config" "$WORK/keys" "$WORK/models"
node --import tsx -e "
  const { readFileSync, writeFileSync } = await import('node:fs');
  const { parseAllDocuments } = await import('yaml');
  const cm = parseAllDocuments(readFileSync('mesh/base/identity.yaml', 'utf8')).map((d) => d.toJSON()).find((d) => d?.kind === 'ConfigMap');
  writeFileSync('$WORK/config/switchyard.yaml', cm.data['switchyard.yaml']);
"
node --import tsx model-workers/src/samples/cli.ts "$WORK/models" >/dev/null
KEY="sy_ci_$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
DIGEST=$(printf '%s' "$KEY" | sha256sum | cut -d' ' -f1)
printf 'api_keys:\n  - id: ci\n    sha256: %s\n    tenant: ci\n    scopes: ["infer:*"]\n' "$DIGEST" >"$WORK/keys/api-keys.yaml"
chmod -R a+rX "$WORK"

SECURITY=(--user 10001:10001 --read-only --tmpfs /tmp:rw,size=256m,mode=1777 --cap-drop=ALL --security-opt no-new-privileges --network=host)
ADD_HOSTS=()
SUBNET=$(( RUN_ID % 200 + 20 ))
i=0
# One container per variant: "model variant version Service-host" from the rendered config.
while read -r model variant version host; do
  i=$((i + 1))
  address="127.78.$SUBNET.$i"
  name="sy-ci-$RUN_ID-$model-$variant"
  podman run -d --name "$name" "${SECURITY[@]}" -v "$WORK/models:/models:ro" \
    -e SWITCHYARD_MODEL="$model" -e SWITCHYARD_MODEL_VERSIONS="$version" -e SWITCHYARD_VARIANT="$variant" -e HOST="$address" -e PORT=8000 \
    localhost/switchyard/model-worker:ci >/dev/null
  CONTAINERS+=("$name")
  ADD_HOSTS+=(--add-host "$host:$address")
  echo "   worker $model/$variant (version $version) as $host -> $address:8000"
done < <(node --import tsx -e "
  const { readFileSync } = await import('node:fs');
  const { parse } = await import('yaml');
  const fleet = parse(readFileSync('$WORK/config/switchyard.yaml', 'utf8'));
  for (const [m, spec] of Object.entries(fleet.models)) for (const v of spec.variants) console.log(m, v.name, v.version, new URL(v.upstreams[0]).hostname);
")

# The gateway pod's edge sidecars, as rendered: command line, environment, and the ConfigMap items they mount.
mkdir -p "$WORK/sidecars"
SIDECARS=$(node --import tsx -e "
  const { mkdirSync, readFileSync, writeFileSync } = await import('node:fs');
  const { parseAllDocuments } = await import('yaml');
  const docs = (file) => parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJSON()).filter(Boolean);
  const data = docs('mesh/base/identity.yaml').find((d) => d.kind === 'ConfigMap').data;
  const pod = docs('mesh/base/gateway.yaml').find((d) => d.kind === 'Deployment').spec.template.spec;
  for (const c of pod.containers.filter((c) => c.name.startsWith('edge-'))) {
    const dir = '$WORK/sidecars/' + c.name;
    const mount = c.volumeMounts.find((m) => m.readOnly);
    const volume = pod.volumes.find((v) => v.name === mount.name);
    mkdirSync(dir + '/module', { recursive: true });
    for (const item of volume.configMap.items) writeFileSync(dir + '/module/' + item.path, data[item.key]);
    writeFileSync(dir + '/mount', mount.mountPath + '\\n');
    writeFileSync(dir + '/command', [...c.command, ...c.args].join('\\n') + '\\n');
    writeFileSync(dir + '/env', c.env.map((e) => e.name + '=' + e.value).join('\\n') + '\\n');
    writeFileSync(dir + '/probe', c.livenessProbe.exec.command.join('\\n') + '\\n');
    // The container's limits as podman flags, and what podman must report back (bytes, nano-CPUs).
    const units = { Ki: 2 ** 10, Mi: 2 ** 20, Gi: 2 ** 30 };
    const memory = /^(\\d+)(Ki|Mi|Gi)$/.exec(c.resources.limits.memory);
    const cpu = String(c.resources.limits.cpu);
    const cpus = cpu.endsWith('m') ? Number(cpu.slice(0, -1)) / 1000 : Number(cpu);
    if (!memory || !(cpus > 0)) throw new Error(c.name + ': unreadable limits ' + JSON.stringify(c.resources.limits));
    const bytes = Number(memory[1]) * units[memory[2]];
    writeFileSync(dir + '/limits', '--memory=' + bytes + 'b\\n--cpus=' + cpus + '\\n');
    writeFileSync(dir + '/expect', bytes + ' ' + Math.round(cpus * 1e9) + '\\n');
    console.log(c.name);
  }
")
chmod -R a+rX "$WORK"
for sidecar in $SIDECARS; do
  dir="$WORK/sidecars/$sidecar"
  mapfile -t COMMAND <"$dir/command"
  mapfile -t LIMITS <"$dir/limits"
  name="sy-ci-$RUN_ID-$sidecar"
  podman run -d --name "$name" "${SECURITY[@]}" "${LIMITS[@]}" --env-file "$dir/env" -v "$dir/module:$(cat "$dir/mount"):ro" \
    --entrypoint "${COMMAND[0]}" localhost/switchyard/edge-worker:ci "${COMMAND[@]:1}" >/dev/null
  CONTAINERS+=("$name")
  LIMITED=$(podman inspect --format '{{.HostConfig.Memory}} {{.HostConfig.NanoCpus}}' "$name")
  [ "$LIMITED" = "$(cat "$dir/expect")" ] || { echo "podman-images: sidecar $sidecar runs with memory/CPU '$LIMITED', rendered '$(cat "$dir/expect")'" >&2; exit 1; }
  echo "   sidecar $sidecar: ${COMMAND[*]:0:7} … (limits: ${LIMITS[*]})"
done

free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }
GW_PORT=$(free_port); ADMIN_PORT=$(free_port)
GATEWAY="sy-ci-$RUN_ID-gateway"
podman run -d --name "$GATEWAY" "${SECURITY[@]}" "${ADD_HOSTS[@]}" \
  -v "$WORK/config:/etc/switchyard:ro" -v "$WORK/keys:/etc/switchyard-keys:ro" \
  -e PORT="$GW_PORT" -e ADMIN_PORT="$ADMIN_PORT" -e HOST=127.0.0.1 \
  -e REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379}" -e SWITCHYARD_REDIS_PREFIX="switchyard-ci-$RUN_ID:" \
  -e SWITCHYARD_API_KEYS_FILE=/etc/switchyard-keys/api-keys.yaml \
  localhost/switchyard/gateway:ci >/dev/null
CONTAINERS+=("$GATEWAY")

ready=""
for _ in $(seq 1 240); do
  if [ "$(curl -s -o /dev/null -w '%{http_code}' -H "authorization: Bearer $KEY" "http://127.0.0.1:$GW_PORT/v2/models/seed-classifier/ready")" = 200 ]; then ready=yes; break; fi
  if [ "$(podman inspect --format '{{.State.Running}}' "$GATEWAY")" != true ]; then break; fi
  sleep 0.5
done
if [ -z "$ready" ]; then
  echo "podman-images: seed-classifier never became ready through the gateway container" >&2
  for c in "${CONTAINERS[@]}"; do echo "--- $c" >&2; podman logs --tail 20 "$c" >&2 || true; done
  exit 1
fi

RESPONSE=$(curl -s -D "$WORK/headers" -w '\n%{http_code}' -H "authorization: Bearer $KEY" -H 'content-type: application/json' -H 'x-switchyard-user: ci' \
  -d '{"inputs":[{"name":"features","datatype":"FP32","shape":[1,2],"data":[0.1,0.2]}]}' "http://127.0.0.1:$GW_PORT/v2/models/seed-classifier/infer")
STATUS=$(tail -n1 <<<"$RESPONSE"); BODY=$(head -n1 <<<"$RESPONSE")
VARIANT=$(grep -i '^x-switchyard-variant:' "$WORK/headers" | tr -d '\r' | cut -d' ' -f2)
echo "   inference through the gateway container: $STATUS, variant $VARIANT, $BODY"
[ "$STATUS" = 200 ] || { echo "podman-images: inference answered $STATUS" >&2; exit 1; }
node -e "
  const body = JSON.parse(process.argv[1]); const want = { v1: '1', v2: '2' }[process.argv[2]];
  if (body.model_version !== want) { console.error('podman-images: variant ' + process.argv[2] + ' answered version ' + body.model_version); process.exit(1); }
" "$BODY" "$VARIANT"

echo "== edge sidecars: their probes pass, and /predict is served through gateway → sidecar → model worker"
for sidecar in $SIDECARS; do
  mapfile -t PROBE <"$WORK/sidecars/$sidecar/probe"
  healthy=""
  for _ in $(seq 1 60); do
    if podman exec "sy-ci-$RUN_ID-$sidecar" "${PROBE[@]}"; then healthy=yes; break; fi
    if [ "$(podman inspect --format '{{.State.Running}}' "sy-ci-$RUN_ID-$sidecar")" != true ]; then break; fi
    sleep 0.5
  done
  [ -n "$healthy" ] || { echo "podman-images: sidecar $sidecar never passed its probe" >&2; podman logs --tail 20 "sy-ci-$RUN_ID-$sidecar" >&2 || true; exit 1; }
  echo "   $sidecar: probe passed"
done
RESPONSE=$(curl -s -D "$WORK/edge-headers" -w '\n%{http_code}' -H "authorization: Bearer $KEY" -H 'content-type: application/json' -H 'x-switchyard-user: ci' \
  -d '{"feature": "0.1,0.2"}' "http://127.0.0.1:$GW_PORT/predict")
STATUS=$(tail -n1 <<<"$RESPONSE"); BODY=$(head -n1 <<<"$RESPONSE")
EDGE=$(grep -i '^x-switchyard-edge-worker:' "$WORK/edge-headers" | tr -d '\r' | cut -d' ' -f2)
echo "   POST /predict through the gateway container: $STATUS, edge worker $EDGE, $BODY"
[ "$STATUS" = 200 ] && [ "$EDGE" = seed-predict ] || { echo "podman-images: /predict answered $STATUS (edge worker '$EDGE')" >&2; for s in $SIDECARS; do podman logs --tail 20 "sy-ci-$RUN_ID-$s" >&2 || true; done; exit 1; }
node -e "const p = JSON.parse(process.argv[1]).prediction; if (!(p >= 0 && p <= 1)) { console.error('podman-images: /predict answered no probability'); process.exit(1); }" "$BODY"

echo "== SIGTERM drains the gateway"
podman stop --time 40 "$GATEWAY" >/dev/null
CODE=$(podman inspect --format '{{.State.ExitCode}}' "$GATEWAY")
# Read the whole log first: with pipefail, `podman logs | grep -q` fails when grep exits before podman has written everything.
GATEWAY_LOG=$(podman logs "$GATEWAY" 2>&1)
grep -q '"msg":"draining: finishing in-flight requests"' <<<"$GATEWAY_LOG" || { echo "podman-images: the gateway logged no drain" >&2; tail -n 20 <<<"$GATEWAY_LOG" >&2; exit 1; }
[ "$CODE" = 0 ] || { echo "podman-images: the gateway exited $CODE after SIGTERM" >&2; exit 1; }
echo "   gateway drained and exited 0"
echo "podman-images: OK"
