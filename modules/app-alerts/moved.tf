# Resource address changes inside this module, so callers upgrading to a new tag keep their
# state instead of destroying and re-creating infrastructure. Add one block per move, e.g.
#
#   moved {
#     from = aws_iam_role.old_name
#     to   = aws_iam_role.new_name
#   }
#
# and mention it under "Upgrade notes" in modules/CHANGELOG.md. Blocks stay until the next
# major version. None so far.
