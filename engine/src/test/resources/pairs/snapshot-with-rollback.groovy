// Local Groovy variables are plain values; playbook variables stay references.
def reportFile = '/tmp/snapbook-report.txt'

playbook('Take a disk-only snapshot, undoably') {
    vars domain: 'web01', name: 'pre-upgrade', images: '/var/lib/libvirt/images'

    step('domain.freeze', domain: domain) {
        rollback { step 'domain.thaw', domain: domain }
    }
    step('snapshot.create', domain: domain, name: name, disk_only: true, atomic: true,
            diskspecs: [[disk: 'vda', file: "${images}/${domain}-${name}.qcow2"]]) {
        register 'snap'
        rollback {
            step('snapshot.delete', domain: domain, snapshot: snap.name, metadata: true) {
                name 'Drop the snapshot\'s metadata'
                rollback {
                    step('image.remove', path: snap.disks['vda'].file) { tags 'cleanup' }
                }
            }
            step('domain.thaw', domain: domain) { when domain_paused }
        }
    }
    step 'image.check', path: snap.disks.vda.file

    onFailure {
        step('domain.resume', domain: domain) { when '{{ domain_paused }}' }
        step 'report.note', text: "rolled back $domain"
    }
    always {
        step 'report.write', path: reportFile, lines: ["done ${domain}", 2, null]
    }
}
