#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, Snapbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: info
short_description: Read a libvirt domain's snapshot tree and backing chains with snapbook
version_added: "0.1.0"
description:
  - Runs C(snapbook show DOMAIN --format json) on the managed host and returns the document as data,
    for C(when:) and C(assert:).
  - Read-only; runs the same in check mode.
options:
  domain:
    description:
      - Name of the libvirt domain.
    type: str
    required: true
  uri:
    description:
      - The libvirt connection URI, as C(-c URI).
    type: str
    default: qemu:///system
  executable:
    description:
      - The snapbook command, a path or a name looked up on the managed host's PATH.
    type: path
    default: snapbook
notes:
  - Snapbook must be installed on the managed host; the role C(snapbook.kvm.install) installs it.
attributes:
  check_mode:
    support: full
    details: The module only reads.
  diff_mode:
    support: none
  platform:
    support: full
    platforms: posix
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
author:
  - Snapbook contributors (@snapbook)
'''

EXAMPLES = r'''
- name: Read web01's snapshots
  snapbook.kvm.info:
    domain: web01
  register: web01

- name: Take the nightly snapshot only once
  snapbook.kvm.playbook:
    recipe: internal-snapshot-create
    vars: {domain: web01, name: nightly}
  when: "'nightly' not in web01.domain.snapshots | map(attribute='name')"

- name: The VM runs
  ansible.builtin.assert:
    that: web01.domain.state == 'running'
'''

RETURN = r'''
domain:
  description:
    - The document of C(snapbook show DOMAIN --format json)
    - C(format_version), C(domain) (the name), C(state), C(current) (the current snapshot or null),
      C(snapshots) (the tree, each with its name, parent and children) and C(disks) (each disk's backing chain).
  returned: success
  type: dict
  sample:
    format_version: 1
    domain: web01
    state: running
    current: nightly
    snapshots: []
    disks: []
rc:
  description: The exit code of C(snapbook show).
  returned: always
  type: int
  sample: 0
cmd:
  description: The command that was run, as an argument list.
  returned: always
  type: list
  elements: str
stderr:
  description: What snapbook printed on standard error.
  returned: always
  type: str
'''

import json

from ansible.module_utils.basic import AnsibleModule


def main():
    module = AnsibleModule(
        argument_spec=dict(
            domain=dict(type='str', required=True),
            uri=dict(type='str', default='qemu:///system'),
            executable=dict(type='path', default='snapbook'),
        ),
        supports_check_mode=True,
    )
    p = module.params
    executable = p['executable']
    if '/' not in executable:
        executable = module.get_bin_path(executable, required=True)
    cmd = [executable, 'show', p['domain'], '--format', 'json', '-c', p['uri']]
    rc, out, err = module.run_command(cmd, environ_update={'NO_COLOR': '1', 'TERM': 'dumb'})
    if rc != 0:
        module.fail_json(msg=err.strip() or out.strip() or 'snapbook show exited with %d' % rc,
                         rc=rc, cmd=cmd, stderr=err)
    try:
        doc = json.loads(out)
    except ValueError as e:
        module.fail_json(msg='snapbook show printed no JSON document: %s' % e, rc=rc, cmd=cmd, stderr=err)
    module.exit_json(changed=False, domain=doc, rc=rc, cmd=cmd, stderr=err)


if __name__ == '__main__':
    main()
