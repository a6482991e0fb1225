// Business Rule on table `incident`: When = after, Update,
// Condition: current.u_ai_suggestion_outcome.changes() && !current.u_outcomes_run_id.nil()
// The AI automation that suggested a resolution (assignment group, category, a fix) wrote
// the id of its run (`run.id` in the SDK, the run event's `id`) into the custom field
// u_outcomes_run_id; the agent who works the incident sets the choice field
// u_ai_suggestion_outcome: accepted | edited (used after a change) | overridden (did it by
// hand) | escalated. The rule calls the Outbound REST Message "Outcomes review" (method
// "post": POST https://<gateway>/v1/events, header Content-Type:
// application/cloudevents+json, header Authorization: Bearer <token>, body =
// servicenow-review-message.json). Effort: the optional integer field u_review_minutes.
(function executeRule(current, previous) {
    var verdicts = {accepted: 'accepted', edited: 'edited', overridden: 'rejected', escalated: 'escalated'};
    var verdict = verdicts[String(current.u_ai_suggestion_outcome)];
    if (!verdict) {
        return;                                                // not a verdict (cleared, other)
    }
    function rfc3339(glide) {                                  // GlideDateTime values are UTC
        return new GlideDateTime(glide).getValue().replace(' ', 'T') + 'Z';
    }
    var r = new sn_ws.RESTMessageV2('Outcomes review', 'post');
    r.setStringParameterNoEscape('sys_id', current.sys_id);
    r.setStringParameterNoEscape('updated', String(current.sys_mod_count));
    r.setStringParameterNoEscape('instance', gs.getProperty('instance_name'));
    r.setStringParameterNoEscape('time', rfc3339(current.sys_updated_on));
    r.setStringParameterNoEscape('project', 'ticket-triage');  // your declared project
    r.setStringParameterNoEscape('automation', 'triage-agent'); // the automation that suggested
    r.setStringParameter('run_id', current.u_outcomes_run_id);  // JSON-escaped
    r.setStringParameterNoEscape('verdict', verdict);
    r.setStringParameter('reviewer', current.sys_updated_by);
    var minutes = parseInt(current.u_review_minutes, 10);
    r.setStringParameterNoEscape('effort', minutes > 0 ? ', "human_effort_s": ' + minutes * 60 : '');
    r.executeAsync();
})(current, previous);
