//! terraform-provider-jke: started by Terraform (go-plugin handshake), or by hand with
//! `--debug` to attach Terraform to a long-running provider.

fn main() {}
