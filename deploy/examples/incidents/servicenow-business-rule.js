// Business Rule on table `incident`: When = after, Insert and Update,
// Condition: current.state.changes() && (current.state == 1 || current.state == 6)
// (1 New: the incident opened; 6 Resolved: it ended). It calls the Outbound REST Message
// "Outcomes" (method "post": POST https://<gateway>/v1/events, header
// Content-Type: application/cloudevents+json, header Authorization: Bearer <token>, body =
// servicenow-rest-message.json). Map the CI / business service to a declared project and
// service below (names: lowercase letters, digits, . _ -).
(function executeRule(current, previous) {
    var resolved = current.state == 6;
    var project = 'checkout';                                  // your declared project
    var service = String(current.business_service.getDisplayValue() || current.cmdb_ci.getDisplayValue())
        .toLowerCase().replace(/[^a-z0-9._-]+/g, '-');
    function rfc3339(glide) {                                  // GlideDateTime values are UTC
        return new GlideDateTime(glide).getValue().replace(' ', 'T') + 'Z';
    }
    var r = new sn_ws.RESTMessageV2('Outcomes', 'post');
    r.setStringParameterNoEscape('sys_id', current.sys_id);
    r.setStringParameterNoEscape('state_name', resolved ? 'resolved' : 'opened');
    r.setStringParameterNoEscape('instance', gs.getProperty('instance_name'));
    r.setStringParameterNoEscape('event', resolved ? 'resolved' : 'opened');
    r.setStringParameterNoEscape('time', rfc3339(resolved ? current.resolved_at : current.opened_at));
    r.setStringParameterNoEscape('project', project);
    r.setStringParameterNoEscape('service', service);
    r.setStringParameterNoEscape('number', current.number);
    r.setStringParameter('short_description', current.short_description);   // JSON-escaped
    r.setStringParameterNoEscape('priority', current.priority.getDisplayValue());
    var resolution = '';
    if (resolved) {
        var byAutomation = String(current.resolved_by.user_name) == gs.getProperty('outcomes.automation_user');
        resolution = ', "started_at": "' + rfc3339(current.opened_at) + '", "resolved_by": "'
            + (byAutomation ? 'automation' : 'person') + '"';
    }
    r.setStringParameterNoEscape('resolution', resolution);
    r.executeAsync();
})(current, previous);
