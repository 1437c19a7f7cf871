#!/usr/bin/python
# -*- coding: utf-8 -*-

# Copyright: (c) 2026, Snapbook contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
---
module: playbook
short_description: Run a snapbook playbook or bundled recipe of libvirt/QEMU snapshot steps
version_added: "0.1.0"
description:
  - Runs C(snapbook run ... --output json) on the managed host and returns its report, parsed.
  - Snapbook plans every run before it acts, verifies each step against libvirt and C(qemu-img), and
    rolls back the completed steps when one fails.
  - In check mode the module runs C(snapbook plan ... --output json) instead, which changes nothing,
    and returns the plan; C(changed) then says whether the plan would change anything.
  - In diff mode the module returns the snapshot trees and backing chains that the plan draws for
    today and for after the run, for each domain the plan changes.
  - Exit codes of snapbook stay distinguishable in the result through C(rc) and C(outcome)
    (exit code 1 is a failure whose completed steps were rolled back, 2 is invalid input or a refusal
    with nothing run, 3 is a run that needs attention (rollback incomplete, or a step whose effect is unknown)).
    For exit code 3 the result names the steps and the C(snapbook recover) command to run.
options:
  playbook:
    description:
      - Path of a snapbook playbook (C(.yml) or C(.groovy)) on the managed host.
      - Exactly one of C(playbook) and C(recipe) is required.
    type: path
  recipe:
    description:
      - Name of a bundled recipe (as C(snapbook recipes) lists them), run as C(recipe:NAME).
      - Exactly one of C(playbook) and C(recipe) is required.
    type: str
  vars:
    description:
      - Variables for the playbook or the recipe's parameters, each passed as C(-e KEY=VALUE).
      - Snapbook treats every value as data. Booleans are passed as C(true)/C(false), lists and
        dictionaries as JSON text, null as an empty value, other values as their string form.
    type: dict
    default: {}
  confirm:
    description:
      - Confirm the irreversible steps of the plan (merges, deletions), as C(--yes) does.
      - Without it a plan with an irreversible step is refused (exit code 2) and nothing is run.
      - Ignored in check mode, which never changes anything.
      - The option is not called C(yes) because YAML 1.1, which Ansible reads, takes a bare C(yes)
        key for a boolean.
    type: bool
    default: false
  tags:
    description:
      - Run only the steps with one of these tags (and the steps tagged C(always)), as C(--tags).
    type: list
    elements: str
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
  state_dir:
    description:
      - Directory for snapbook's journals and locks (C(SNAPBOOK_STATE)).
      - Default is snapbook's own, C(~/.local/state/snapbook) of the remote user.
    type: path
  recipes_dirs:
    description:
      - Directories of your own recipes, each passed as C(--recipes DIR); yours win over bundled ones.
    type: list
    elements: path
  lock_timeout:
    description:
      - How long to wait for another run on the same domain, as C(--lock-timeout) (for example C(30s)).
    type: str
notes:
  - Snapbook must be installed on the managed host; the role C(snapbook.kvm.install) installs it.
  - The report's step statuses are snapbook's, lower case with underscores (C(changed), C(rolled_back),
    C(not_rolled_back), ...).
attributes:
  check_mode:
    support: full
    details: Runs C(snapbook plan), which only observes.
  diff_mode:
    support: full
    details: The diff is the picture the plan draws of each changed domain, today and after the run.
  platform:
    support: full
    platforms: posix
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
author:
  - Snapbook contributors (@snapbook)
'''

EXAMPLES = r'''
- name: Take an internal snapshot of web01 with a bundled recipe
  snapbook.kvm.playbook:
    recipe: internal-snapshot-create
    vars:
      domain: web01
      name: before-upgrade
      description: taken by Ansible
  register: snap

- name: Delete it again (a merge is irreversible, hence confirm)
  snapbook.kvm.playbook:
    recipe: internal-snapshot-delete
    vars:
      domain: web01
      snapshot: before-upgrade
      children: false
    confirm: true

- name: Run a playbook of your own, only its steps tagged backup, with a journal directory of its own
  snapbook.kvm.playbook:
    playbook: /etc/snapbook/nightly.yml
    tags: [backup]
    state_dir: /var/lib/snapbook-state
    executable: /opt/snapbook/bin/snapbook

- name: See what a run would do (ansible-playbook --check --diff shows the predicted snapshot tree)
  snapbook.kvm.playbook:
    recipe: external-snapshot-create
    vars: {domain: web01, name: nightly}
  check_mode: true
  register: plan

- name: Tell a rollback from a run that needs attention
  snapbook.kvm.playbook:
    playbook: /etc/snapbook/risky.yml
  register: run
  failed_when: run.outcome not in ['succeeded', 'rolled_back']
'''

RETURN = r'''
rc:
  description: Snapbook's exit code (0 success, 1 failed and rolled back, 2 invalid input or refused, 3 needs attention).
  returned: always
  type: int
  sample: 0
outcome:
  description:
    - What the exit code and the report's status mean, one word.
    - C(succeeded) (run) or C(feasible) (check mode) for exit code 0.
    - C(rolled_back) (a step failed, everything done was undone), C(plan_failed) (a precondition failed in the
      plan, nothing was done) or C(failed) (an C(always) step failed, nothing needed undoing) for exit code 1.
    - C(invalid) for exit code 2 (invalid input, or irreversible steps not confirmed; nothing was run).
    - C(needs_attention) for exit code 3, with C(attention) and C(recover_command).
    - C(error) for any other exit code (snapbook could not start, for one).
  returned: always
  type: str
  sample: succeeded
status:
  description: The report's own status (C(succeeded), C(rolled_back), C(refused), C(rollback_incomplete), C(stopped), ...;
    C(feasible) or C(infeasible) for a plan).
  returned: when snapbook printed a report
  type: str
  sample: succeeded
message:
  description: Snapbook's message (the report's message, the plan's failure, or what snapbook printed on standard error).
  returned: always
  type: str
  sample: ""
run_id:
  description: The run's id, for C(snapbook runs) and C(snapbook recover).
  returned: when a run started
  type: str
  sample: 20261201-181203-7f3a
journal:
  description: Path of the run's journal on the managed host.
  returned: when a run started
  type: str
  sample: /root/.local/state/snapbook/20261201-181203-7f3a.jsonl
steps:
  description: The steps of the run as the report gives them.
  returned: when a run started
  type: list
  elements: dict
  contains:
    section:
      description: C(steps), C(on_failure) or C(always).
      type: str
    index:
      description: Position of the step in its section, from 0.
      type: int
    name:
      description: The step's name.
      type: str
    type:
      description: The step type, such as C(snapshot.create).
      type: str
    status:
      description: C(ok), C(changed), C(skipped), C(failed), C(rolled_back), C(not_rolled_back) or C(not_run).
      type: str
    changed:
      description: Whether the step changed something.
      type: bool
    verified:
      description: Whether the step's effect was verified.
      type: bool
    message:
      description: The step's message.
      type: str
problems:
  description: The problems the run reported (what failed, what could not be undone).
  returned: when a run started
  type: list
  elements: raw
plan:
  description:
    - The planned steps (in check mode, or when a run was refused or its plan failed), each with section, index,
      name, type, status (C(will_run), C(will_skip), C(not_selected), C(condition_unknown), C(unplannable),
      C(will_fail), C(not_reached), C(on_failure_only)), changes, irreversible, actions, notes and location.
  returned: when snapbook printed a plan
  type: list
  elements: dict
attention:
  description:
    - The steps that need attention after exit code 3, as snapbook's report names them, each with its section, index,
      name, type and status (C(not_rolled_back) after an incomplete rollback, C(failed) for the step whose effect
      is unknown when the run stopped).
  returned: when rc is 3
  type: list
  elements: dict
recover_command:
  description: The command to run on the managed host after exit code 3 (snapbook's C(recover), with this host's
    executable and state directory).
  returned: when rc is 3 and the report names the run and its recover command
  type: str
  sample: SNAPBOOK_STATE=/var/lib/snapbook-state /opt/snapbook/bin/snapbook recover 20261201-181203-7f3a --rollback
report:
  description: The whole JSON document snapbook printed.
  returned: when snapbook printed a report
  type: dict
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

# Plan statuses of a step that will (or may) run, so that its changes count.
RUNNING_PLAN_STATUSES = ('will_run', 'condition_unknown', 'unplannable')
# Run statuses of a step whose effect is in the world when the run ends.
CHANGED_STEP_STATUSES = ('changed', 'not_rolled_back')


def var_text(value):
    """The -e value for one variable: what snapbook reads as data."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (dict, list)):
        return json.dumps(value, sort_keys=True)
    if value is None:
        return ''
    return str(value)


def snapbook_command(module, executable, verb, output):
    p = module.params
    target = p['playbook'] if p['playbook'] else 'recipe:' + p['recipe']
    cmd = [executable, verb, target, '--output', output, '-c', p['uri']]
    for key in sorted(p['vars']):
        cmd.extend(['-e', '%s=%s' % (key, var_text(p['vars'][key]))])
    if p['tags']:
        cmd.extend(['--tags', ','.join(p['tags'])])
    for directory in p['recipes_dirs'] or []:
        cmd.extend(['--recipes', directory])
    if p['lock_timeout']:
        cmd.extend(['--lock-timeout', p['lock_timeout']])
    if verb == 'run' and p['confirm']:
        cmd.append('--yes')
    return cmd


def parse_report(stdout):
    """The JSON document snapbook printed, or None when it printed none."""
    text = stdout.strip()
    if not text.startswith('{'):
        return None
    try:
        doc = json.loads(text)
    except ValueError:
        return None
    return doc if isinstance(doc, dict) else None


def outcome_of(rc, status, check):
    if rc == 0:
        return 'feasible' if check else 'succeeded'
    if rc == 1:
        if status in ('rolled_back', 'failed'):
            return status
        return 'plan_failed'
    if rc == 2:
        return 'invalid'
    if rc == 3:
        return 'needs_attention'
    return 'error'


def picture_of(doc):
    """The plan document's picture (each changed domain today and after the run) as Ansible's diff list;
    None when the plan draws none."""
    drawings = (doc or {}).get('picture') or []
    if not drawings:
        return None
    return [{
        'before_header': '%s, today' % d.get('subject', ''),
        'after_header': '%s, after the run' % d.get('subject', ''),
        'before': d.get('today', ''),
        'after': d.get('after', ''),
    } for d in drawings]


def main():
    module = AnsibleModule(
        argument_spec=dict(
            playbook=dict(type='path'),
            recipe=dict(type='str'),
            vars=dict(type='dict', default={}),
            confirm=dict(type='bool', default=False),
            tags=dict(type='list', elements='str'),
            uri=dict(type='str', default='qemu:///system'),
            executable=dict(type='path', default='snapbook'),
            state_dir=dict(type='path'),
            recipes_dirs=dict(type='list', elements='path'),
            lock_timeout=dict(type='str'),
        ),
        mutually_exclusive=[('playbook', 'recipe')],
        required_one_of=[('playbook', 'recipe')],
        supports_check_mode=True,
    )
    p = module.params
    executable = p['executable']
    if '/' not in executable:
        executable = module.get_bin_path(executable, required=True)

    # No colours in what snapbook prints; the journal directory when one is asked for.
    env = {'NO_COLOR': '1', 'TERM': 'dumb'}
    if p['state_dir']:
        env['SNAPBOOK_STATE'] = p['state_dir']

    check = module.check_mode
    picture = None
    if module._diff and not check:
        # A run's report has no picture: the plan's is asked for first, before anything is run. In check mode
        # the plan below is that plan.
        rc, out, dummy = module.run_command(snapbook_command(module, executable, 'plan', 'json'),
                                            environ_update=env)
        if rc == 0:
            picture = picture_of(parse_report(out))

    cmd = snapbook_command(module, executable, 'plan' if check else 'run', 'json')
    rc, out, err = module.run_command(cmd, environ_update=env)
    doc = parse_report(out)
    status = doc.get('status') if doc else None
    result = dict(cmd=cmd, rc=rc, stderr=err, outcome=outcome_of(rc, status, check), changed=False)

    message = ''
    if doc:
        result['report'] = doc
        result['status'] = status
        message = doc.get('message') or doc.get('failure') or ''
        problems = [str(problem) for problem in doc.get('problems') or []]
        if problems and rc != 0:
            message = '%s: %s' % (message, '; '.join(problems))
        if 'plan' in doc:
            result['plan'] = doc['plan']
        for key in ('run_id', 'journal', 'steps', 'problems'):
            if key in doc:
                result[key] = doc[key]
    if not message:
        message = err.strip() or out.strip()
    result['message'] = message

    if check:
        result['changed'] = any(s.get('changes') and s.get('status') in RUNNING_PLAN_STATUSES
                                for s in result.get('plan', []) if s.get('section') == 'steps')
    else:
        result['changed'] = any(s.get('status') in CHANGED_STEP_STATUSES for s in result.get('steps', []))
    if module._diff and check and doc:
        picture = picture_of(doc)
    if picture is not None and rc == 0:
        result['diff'] = picture

    if rc == 3:
        # snapbook's report names the steps that need attention and the recover command (none when the run
        # never started, as for a journal that cannot be written)
        result['attention'] = (doc or {}).get('attention') or []
        recover = (doc or {}).get('recover')
        if recover and result.get('run_id'):
            prefix = 'SNAPBOOK_STATE=%s ' % p['state_dir'] if p['state_dir'] else ''
            if recover.startswith('snapbook '):
                recover = executable + recover[len('snapbook'):]
            result['recover_command'] = prefix + recover
            names = ', '.join('%s [%s, %s]' % (s.get('name'), s.get('type'), s.get('status'))
                              for s in result['attention']) or 'none named'
            message = ('%s; steps that need attention: %s; inspect with: %s recover %s, then run: %s'
                       % (message, names, executable, result['run_id'], result['recover_command']))
            result['message'] = message

    if rc != 0:
        module.fail_json(msg=message or 'snapbook exited with %d' % rc, **result)
    module.exit_json(**result)


if __name__ == '__main__':
    main()
