//! `carrier::`: what T-Mobile does to PTNs; the sandbox only.

use super::*;

pub(super) fn module(s: &Arc<Session>) -> Module {
    let mut m = Module::new();
    write_fn!(
        m, s, "carrier", "provision_ptn", ["number: string|array", "tags: array"] -> "map",
        |x, f, numbers: Dynamic, tags: Array| {
            let list: Vec<Dynamic> = if numbers.is_array() {
                args::array(f, "number", &numbers)?
            } else {
                vec![numbers]
            };
            let nums = list
                .iter()
                .map(|d| args::e164(f, "number", d))
                .collect::<ScriptResult<Vec<_>>>()?;
            let tags: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
            let carrier = x.clients.carrier.clone().ok_or_else(|| bad(f, "the carrier API exists only on the sandbox profile: on a real profile T-Mobile provisions PTNs"))?;
            let target = nums
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", ");
            let params = json!({"numbers": nums, "tags": tags});
        }
        change: change(f, target, params.clone()),
        dry_run: params,
        send: carrier.provision_ptn(&nums, &tags),
    );
    write_fn!(
        m, s, "carrier", "delete_ptn", ["number: string"] -> "map",
        |x, f, number: Dynamic| {
            let n = args::e164(f, "number", &number)?;
            let carrier = x.clients.carrier.clone().ok_or_else(|| bad(f, "the carrier API exists only on the sandbox profile: on a real profile ask T-Mobile to delete the number"))?;
        }
        change: Change {
            op: f,
            impact: Impact::Irreversible,
            target: n.to_string(),
            params: json!({"number": n}),
            undo: Some("the number is removed from Movius and unpeered from Zoom"),
        },
        dry_run: json!({"number": n.to_string()}),
        send: {
            carrier.delete_ptn(&n)?;
            if let Some(idx) = &x.numbers {
                idx.removed(n.as_str());
            }
            Ok(())
        },
    );
    m
}
