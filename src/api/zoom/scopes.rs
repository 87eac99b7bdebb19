//! The OAuth scopes each Zoom operation of the client needs, as the specs' `security` sections
//! list them (`../shared/specs/zoom/`; the conformance test reads them again and fails when this
//! table differs). Any one scope of an operation's list is enough: Zoom lists the classic scope
//! (`phone:read:admin`) and the granular one (`phone:read:list_numbers:admin`) side by side.

/// (client operation, method, path, scopes: any one suffices).
pub const SCOPES: &[(&str, &str, &str, &[&str])] = &[
    (
        "numbers",
        "GET",
        "/phone/numbers",
        &["phone:read:admin", "phone:read:list_numbers:admin"],
    ),
    (
        "number",
        "GET",
        "/phone/numbers/{phoneNumberId}",
        &["phone:read:admin", "phone:read:numbers:admin"],
    ),
    (
        "assign_number",
        "POST",
        "/phone/users/{userId}/phone_numbers",
        &[
            "phone:write",
            "phone:write:admin",
            "phone:write:user_number",
            "phone:write:user_number:admin",
        ],
    ),
    (
        "unassign_number",
        "DELETE",
        "/phone/users/{userId}/phone_numbers/{phoneNumberId}",
        &[
            "phone:write",
            "phone:write:admin",
            "phone:delete:user_number",
            "phone:delete:user_number:admin",
        ],
    ),
    (
        "users",
        "GET",
        "/users",
        &[
            "user:read",
            "user:write",
            "user:read:admin",
            "user:write:admin",
            "user:read:list_users:admin",
        ],
    ),
    (
        "user",
        "GET",
        "/users/{userId}",
        &[
            "user:read",
            "user:write",
            "user:read:admin",
            "user:write:admin",
            "user_profile",
            "user_info:read",
            "user:read:user",
            "user:read:user:admin",
        ],
    ),
    (
        "create_user",
        "POST",
        "/users",
        &["user:write", "user:write:admin", "user:write:user:admin"],
    ),
    (
        "enable_phone",
        "PATCH",
        "/users/{userId}/settings",
        &[
            "user:write:admin",
            "user:write",
            "user:update:settings",
            "user:update:settings:admin",
        ],
    ),
    (
        "phone_users",
        "GET",
        "/phone/users",
        &["phone:read:admin", "phone:read:list_users:admin"],
    ),
    (
        "batch_add_phone_users",
        "POST",
        "/phone/users/batch",
        &["phone:write:admin", "phone:write:batch_users:admin"],
    ),
    (
        "phone_user",
        "GET",
        "/phone/users/{userId}",
        &[
            "phone:read",
            "phone:read:admin",
            "phone:read:user",
            "phone:read:user:admin",
        ],
    ),
    (
        "update_phone_user",
        "PATCH",
        "/phone/users/{userId}",
        &[
            "phone:write",
            "phone:write:admin",
            "phone:update:user",
            "phone:update:user:admin",
        ],
    ),
    (
        "sites",
        "GET",
        "/phone/sites",
        &["phone:read:admin", "phone:read:list_sites:admin"],
    ),
    (
        "site",
        "GET",
        "/phone/sites/{siteId}",
        &["phone:read:admin", "phone:read:site:admin"],
    ),
    (
        "calling_plans",
        "GET",
        "/phone/calling_plans",
        &["phone:read:admin", "phone:read:list_calling_plans:admin"],
    ),
    (
        "assign_calling_plan",
        "POST",
        "/phone/users/{userId}/calling_plans",
        &[
            "phone:write",
            "phone:write:admin",
            "phone:write:calling_plan",
            "phone:write:calling_plan:admin",
        ],
    ),
    (
        "remove_calling_plan",
        "DELETE",
        "/phone/users/{userId}/calling_plans/{planType}",
        &[
            "phone:write",
            "phone:write:admin",
            "phone:delete:users_calling_plan",
            "phone:delete:users_calling_plan:admin",
        ],
    ),
    (
        "roles",
        "GET",
        "/phone/roles",
        &["phone:read:admin", "phone:read:list_roles:admin"],
    ),
    (
        "add_role_members",
        "POST",
        "/phone/roles/{roleId}/members",
        &["phone:write:admin", "phone:write:role_member:admin"],
    ),
    (
        "devices",
        "GET",
        "/phone/devices",
        &["phone:read:admin", "phone:read:list_devices:admin"],
    ),
    (
        "add_device",
        "POST",
        "/phone/devices",
        &["phone:write:admin", "phone:write:device:admin"],
    ),
    (
        "assign_device",
        "POST",
        "/phone/devices/{deviceId}/extensions",
        &["phone:write:admin", "phone:write:device_extension:admin"],
    ),
    (
        "peering_numbers",
        "GET",
        "/phone/peering/numbers",
        &[
            "phone:read:admin",
            "phone_peering:read:admin",
            "phone:read:list_peering_numbers:admin",
        ],
    ),
    (
        "call_history",
        "GET",
        "/phone/call_history",
        &[
            "phone:read:admin",
            "phone_call_log:read:admin",
            "phone:read:list_call_logs:admin",
        ],
    ),
];

/// The client's operations whose scopes none of `granted` covers, with what they need.
pub fn missing<'a>(granted: &[String]) -> Vec<(&'a str, &'a [&'a str])> {
    SCOPES
        .iter()
        .filter(|(_, _, _, need)| !need.iter().any(|n| granted.iter().any(|g| g == n)))
        .map(|(op, _, _, need)| (*op, *need))
        .collect()
}
