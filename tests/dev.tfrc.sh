# Sourced by tests/quickstart and bench scripts: a Terraform CLI config whose dev_overrides
# point jke/jke at target/release (the design's contract), and real Terraform from .venv.
root=${root:?}
export CHECKPOINT_DISABLE=1
export TF_BIN=${TF_BIN:-$root/tests/bin/terraform}
mkdir -p "$root/.cache"
cat >"$root/.cache/dev.tfrc" <<TFRC
provider_installation {
  dev_overrides {
    "jke/jke" = "$root/target/release"
  }
  direct {}
}
TFRC
export TF_CLI_CONFIG_FILE=$root/.cache/dev.tfrc
