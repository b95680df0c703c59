import Timing

extension Gateway {
    /// The profiles that received nothing since start, for longer than `config.silentProfileGrace`,
    /// while some enrolled device was heard on no profile (#18 item 9): `/readyz` warnings, never
    /// failures; each logged at most once an hour. (mosquitto grants a subscription its ACL then
    /// starves, so only silence shows it; a device heard on another profile is that profile's.)
    public func silentProfileWarnings() -> [String] {
        let uptime = clock.uptime
        guard uptime >= config.silentProfileGrace, let enrolled = runtime.identity?.enrolledDeviceIDs else { return [] }
        let unheard = activity.unheard(among: enrolled)
        guard unheard > 0 else { return [] }
        return runtime.profiles.profiles.filter { activity.received(profileId: $0.id) == 0 }.map { profile in
            let warning = "profile \(profile.id) has received nothing on \(profile.topic.subscriptionFilter) in \(Int(uptime.inSeconds) / 60) min "
                + "since start while \(unheard) of \(enrolled.count) enrolled device(s) have not been heard on any profile: check that the broker ACL "
                + "grants the gateway its topics (docs/deployment.md), or remove the profile if no such device is in use"
            if silenceAlarms.shouldLog(profile.id) { logger.warning("readiness warning: a subscribed profile hears nothing", metadata: ["warning": "\(warning)"]) }
            return warning
        }
    }
}
