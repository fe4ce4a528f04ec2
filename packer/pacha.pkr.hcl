# An image with pacha baked in: node from the distribution, the one-file bundle, the
# systemd unit enabled, image-wide defaults in /etc/pacha.conf, and nothing of the build
# machine: no pacha state, no keys, no machine ID, cloud-init reset. Every instance
# launched from it becomes, at first boot, the host its user data (or SSM) names.
#
# Packer 1.6.6 (Debian 12) with built-in builders only; no `packer init`.
#   npm run bundle                                     # dist/pacha.mjs
#   packer validate -var aws_region=eu-west-1 -var qemu_base_image_checksum=sha512:... packer/
#   packer build -var aws_region=eu-west-1 -var qemu_base_image_checksum=sha512:... \
#     -only=amazon-ebs.debian packer/            # or -only=qemu.debian
# Both variables without a default are required even for one source (packer 1.6 asks for
# every variable); a var file (-var-file=site.pkrvars.hcl) keeps them.
# See the README ("Baking pacha into an image"; Xen: "Xen (XCP-ng, XenServer)").

variable "aws_region" {
  type        = string
  description = "AWS region to build the AMI in (no default: say where)."
}

variable "aws_instance_type" {
  type    = string
  default = "t3.small"
}

variable "aws_source_ami_name" {
  type        = string
  default     = "debian-13-amd64-*"
  description = "Name pattern of the base AMI. Debian 13 ships node 20.19 (pacha needs >= 20.19)."
}

variable "aws_source_ami_owner" {
  type        = string
  default     = "136693071363"
  description = "Account that publishes the base AMI (Debian's official one)."
}

variable "aws_ssh_username" {
  type    = string
  default = "admin"
}

variable "qemu_base_image_url" {
  type        = string
  default     = "https://cloud.debian.org/images/cloud/trixie/latest/debian-13-genericcloud-amd64.qcow2"
  description = "Base disk image for the qemu source (a cloud image with cloud-init)."
}

variable "qemu_base_image_checksum" {
  type        = string
  description = "sha512:<hex> of the base image, from the SHA512SUMS beside it (no default: pin what you build from)."
}

variable "qemu_accelerator" {
  type        = string
  default     = "kvm"
  description = "kvm where /dev/kvm exists, tcg (slow) elsewhere."
}

variable "image_name" {
  type    = string
  default = "pacha-debian-13"
}

variable "bundle" {
  type        = string
  default     = "dist/pacha.mjs"
  description = "The one-file build of pacha (`npm run bundle`), relative to where packer runs."
}

variable "node_install_command" {
  type        = string
  default     = "apt-get install -y -q --no-install-recommends nodejs"
  description = "Installs node >= 20.19 on the base image (the distribution's package on Debian 13)."
}

locals {
  # AMI names must be unique: a UTC stamp like 20240131T120000.
  stamp = regex_replace(timestamp(), "[-:]|Z$", "")
  # What the file provisioner uploads to /tmp (the SSH user may only write there); each
  # keeps its base name, so the bundle must be named pacha.mjs.
  uploads = [
    var.bundle,
    "${path.root}/../systemd/pacha.service",
    "${path.root}/pacha.conf",
    "${path.root}/install.sh",
    "${path.root}/cleanup.sh",
  ]
  # The qemu build VM's login, set by http/user-data; locked before the image is captured.
  qemu_ssh_username = "debian"
  qemu_ssh_password = "packer"
  # Run provisioner scripts as root; the build users have password-less sudo.
  sudo = "chmod +x {{ .Path }}; sudo {{ .Vars }} {{ .Path }}"
}

source "amazon-ebs" "debian" {
  region        = var.aws_region
  instance_type = var.aws_instance_type
  ami_name      = "${var.image_name}-${local.stamp}"
  source_ami_filter {
    filters = {
      name                  = var.aws_source_ami_name
      architecture          = "x86_64"
      "root-device-type"    = "ebs"
      "virtualization-type" = "hvm"
    }
    owners      = [var.aws_source_ami_owner]
    most_recent = true
  }
  ssh_username = var.aws_ssh_username
  tags = {
    Name  = var.image_name
    pacha = "baked"
  }
}

source "qemu" "debian" {
  iso_url          = var.qemu_base_image_url
  iso_checksum     = var.qemu_base_image_checksum
  disk_image       = true
  format           = "qcow2"
  accelerator      = var.qemu_accelerator
  headless         = true
  output_directory = "output-${var.image_name}"
  vm_name          = "${var.image_name}.qcow2"
  # The base image's cloud-init reads its seed from packer's HTTP server (nocloud-net).
  http_directory   = "${path.root}/http"
  qemuargs         = [["-smbios", "type=1,serial=ds=nocloud-net;s=http://{{ .HTTPIP }}:{{ .HTTPPort }}/"]]
  ssh_username     = local.qemu_ssh_username
  ssh_password     = local.qemu_ssh_password
  ssh_timeout      = "15m"
  shutdown_command = "sudo shutdown -P now"
}

build {
  sources = ["source.amazon-ebs.debian", "source.qemu.debian"]

  # Everything install.sh and cleanup.sh need, side by side in /tmp (install.sh finds
  # pacha.service and pacha.conf beside itself).
  provisioner "file" {
    sources     = local.uploads
    destination = "/tmp/"
  }

  # node from the distribution, then pacha itself (install.sh refuses a node < 20.19).
  provisioner "shell" {
    execute_command  = local.sudo
    environment_vars = ["DEBIAN_FRONTEND=noninteractive"]
    inline = [
      "apt-get update -q",
      var.node_install_command,
      "sh /tmp/install.sh --bundle /tmp/pacha.mjs --unit /tmp/pacha.service --config /tmp/pacha.conf",
      "pacha --version",
    ]
  }

  # The qemu build VM's password login goes before anything is captured.
  provisioner "shell" {
    only            = ["qemu.debian"]
    execute_command = local.sudo
    inline          = ["passwd -l ${local.qemu_ssh_username}"]
  }

  # Last: no pacha state, keys, machine ID or cloud-init instance left in the image.
  provisioner "shell" {
    execute_command = local.sudo
    inline = [
      "sh /tmp/cleanup.sh",
      "rm -f /tmp/pacha.mjs /tmp/pacha.service /tmp/pacha.conf /tmp/install.sh /tmp/cleanup.sh",
    ]
  }
}
