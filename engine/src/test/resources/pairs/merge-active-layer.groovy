playbook('Merge the active overlay into its base') {
    vars domain: 'db01', disk: 'vda'
    vars attempts: 3, bandwidth_mib: 64, ratio: 0.5

    step('agent.ping', domain: domain) {
        name 'Wait for the guest agent'
        register 'agent'
        retries 5
        until agent.ready
        delay '250ms'
        timeout '2m'
        tags 'agent', 'preflight'
    }
    step('block.commit',
            domain: domain,
            disk: disk,
            active: true,
            pivot: true,
            bandwidth: bandwidth_mib,
            keep_overlay: false,
            label: "${domain}-merged",
            base: agent.disks.vda.backing,
            wait: [ready: 10, ratio: 0.5],
            flags: ['shallow', disk, 7]) {
        register 'commit'
        when agent.ready
        retries 2
        delay 10
        timeout '1h'
        verify commit.pivoted
        verify(['{{ commit.base == agent.disks.vda.backing }}'])
        tags(['merge'])
    }
    step 'image.check', path: commit.base, repair: 'none', { when 'commit.pivoted and attempts > 1' }
}
