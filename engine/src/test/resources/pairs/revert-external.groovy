playbook('Revert a VM to an external snapshot') {
    vars domain: 'web01', snapshot: 'snap2'
    step('chain.verify', domain: domain, snapshot: snapshot) { name "The snapshot's chain is healthy" }
    step 'domain.shutdown', domain: domain, timeout: '60s', force: true
    step('snapshot.revert', domain: domain, snapshot: snapshot) {
        name "Point vda at a new overlay over the snapshot's state"
        register 'reverted'
    }
    step('domain.start', domain: domain) {
        verify '{{ reverted.disks.vda.source != null }}'
    }
    onFailure {
        step 'domain.start', domain: domain
    }
}
