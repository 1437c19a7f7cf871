// The Groovy twin of internal-snapshot-create.yml: it loads to the same model.
playbook('Take an atomic internal snapshot of every disk (qcow2 only)') {
    vars domain: null, name: null, description: ''

    step('snapshot.create', domain: domain, name: name, description: description, disk_only: false,
            atomic: true) {
        name 'Take the internal snapshot, all disks or none'
        register 'created'
    }
    step('snapshot.info', domain: domain, snapshot: name) {
        name 'libvirt records it as an internal snapshot'
        register 'info'
        verify(["info.location == 'internal'"])
    }
    step('snapshot.current', domain: domain) {
        name 'It is the current snapshot'
        register 'current'
        verify(['current.current == name'])
    }
}
