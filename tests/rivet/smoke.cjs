// Zoom's own SDK (@zoom/rivet), with the bodies and queries its types declare, against
// `vline sandbox serve --strict`. Zoom's hosts are rewritten to the sandbox by an axios interceptor
// (the SDK fixes https://zoom.us/oauth/token and https://api.zoom.us/v2).
//
//   cd tests/rivet && npm install
//   vline sandbox serve --strict --port 18617 --state :memory: &
//   node smoke.cjs http://127.0.0.1:18617        # one line per call; exit 0 when all pass
//
// Not part of `cargo test` (it needs npm); the conformance test covers vline's own requests.
const axios = require('axios');
const { PhoneS2SAuthClient } = require('@zoom/rivet/phone');
const { UsersS2SAuthClient } = require('@zoom/rivet/users');
const base = process.argv[2];
axios.interceptors.request.use((c) => {
  const u = (c.baseURL ? c.baseURL.replace(/\/$/, '') : '') + (c.url.startsWith('http') ? '' : c.url);
  const full = c.url.startsWith('http') ? c.url : u;
  c.url = full.replace('https://zoom.us/oauth/token', base + '/zoom/oauth/token')
              .replace('https://api.zoom.us/v2', base + '/zoom/v2');
  c.baseURL = undefined;
  return c;
});
const opts = { clientId: 'sandbox-client', clientSecret: 'sandbox-secret', accountId: 'sandbox-account', disableReceiver: true };
const phone = new PhoneS2SAuthClient(opts).endpoints;
const users = new UsersS2SAuthClient(opts).endpoints;
const steps = [
  ['list numbers', () => phone.phoneNumbers.listPhoneNumbers({ query: { type: 'unassigned', page_size: 100 } })],
  ['list phone users', () => phone.users.listPhoneUsers({ query: { page_size: 100 } })],
  ['list sites', () => phone.sites.listPhoneSites({ query: {} })],
  ['get site', () => phone.sites.getPhoneSiteDetails({ path: { siteId: 'site-chicago' } })],
  ['list calling plans', () => phone.phonePlans.listCallingPlans({})],
  ['list roles', () => phone.phoneRoles.listPhoneRoles({})],
  ['add role members', () => phone.phoneRoles.addMembersToRoles({ path: { roleId: 'role-phone-user' }, body: { user_ids: ['erin@jpmc.example'] } })],
  ['list peering', () => phone.providerExchange.listPeeringPhoneNumbers({ query: { page_size: 100 } })],
  ['add peering numbers', () => phone.providerExchange.addPeeringPhoneNumbers({ body: { carrier_code: 8801, phone_numbers: [{ phone_number: '+13126189999', sip_trunk_name: 'movius-pex-trunk', status: 1 }] } })],
  ['list devices', () => phone.phoneDevices.listDevices({ query: { type: 'unassigned' } })],
  ['add device', () => phone.phoneDevices.addDevice({ body: { display_name: 'Bob desk', mac_address: '001122aabb66', type: 'yealink', assignee_extension_ids: [] } })],
  ['assign device', () => phone.phoneDevices.assignEntityToDevice({ path: { deviceId: 'dev-0001' }, body: { assignee_extension_ids: ['ext-user-bob'] } })],
  ['update phone user', () => phone.users.updateUsersProfile({ path: { userId: 'user-bob' }, body: { extension_number: '1102' } })],
  ['create user', () => users.users.createUsers({ body: { action: 'ssoCreate', user_info: { email: 'gina@jpmc.example', type: 1, first_name: 'Gina', last_name: 'Grey' } } })],
  ['batch add phone users', () => phone.users.batchAddUsers({ body: { users: [{ email: 'gina@jpmc.example', extension_number: '1201', calling_plans: ['US/CA Unlimited'] }] } })],
  ['license erin (user settings)', () => users.users.updateUserSettings({ path: { userId: 'user-erin' }, body: { feature: { zoom_phone: true } } })],
  ['assign calling plan', () => phone.users.assignCallingPlanToUser({ path: { userId: 'user-erin' }, body: { calling_plans: [{ type: 100 }] } })],
  ['assign number', async () => {
    const l = await phone.phoneNumbers.listPhoneNumbers({ query: { type: 'unassigned', page_size: 100 } });
    const n = l.data.phone_numbers[0];
    return phone.phoneNumbers.assignPhoneNumberToUser({ path: { userId: 'user-erin' }, body: { phone_numbers: [{ id: n.id }] } });
  }],
  ['call history', () => phone.callLogs.getAccountsCallHistory({ query: { from: '2026-01-01', to: '2026-12-31' } })],
  ['list users', () => users.users.listUsers({ query: { status: 'active', page_size: 300 } })],
];
(async () => {
  let bad = 0;
  for (const [name, f] of steps) {
    try { const r = await f(); console.log(`ok    ${name} (${r.statusCode})`); }
    catch (e) { bad++; console.log(`FAIL  ${name}: ${e.message}`); }
  }
  process.exit(bad ? 1 : 0);
})();
