// The Groovy twin of check-image.yml: it loads to the same model.
playbook('Check an image, and repair it only on request and only when no running VM has it open') {
    vars image: null, repair: 'none'

    step('image.info', path: image) {
        name 'Read the image'
        register 'info'
    }
    step('image.check', path: image, repair: repair) {
        name 'Check it (repair only as asked)'
        register 'check'
    }
    step('assert', that: ['check.corruptions == 0', 'check.check_errors == 0'],
            msg: "${image} still has errors; repair them with -e repair=all once no running domain uses it") {
        name 'No corruption and no check error is left'
    }
}
