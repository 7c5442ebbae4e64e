import { formatCidr } from "../../lib/net/address.ts";
import { assertEquals } from "../helpers/assert.ts";
import { rcFrom } from "./helpers.ts";

/** The interesting part of an rc.conf layer, in plain strings. */
function summarise(text: string) {
  const { layer, diagnostics } = rcFrom(text);
  const interfaces = Object.fromEntries(
    Object.entries(layer.interfaces).map((
      [name, i],
    ) => [name, `${i.addresses.map(formatCidr).join(" ")}${i.up ? " up" : ""}`]),
  );
  const carp = layer.carp.map((v) =>
    `${v.interface}@${v.parent} vhid=${v.vhid} advbase=${v.advbase} advskew=${v.advskew}` +
    ` pass=${v.pass}${v.state ? ` state=${v.state}` : ""} ${v.addresses.map(formatCidr).join(",")}`
  );
  const settings = Object.fromEntries(
    Object.entries(layer.settings).map(([k, v]) => [k, v!.value]),
  );
  return { interfaces, carp, settings, diagnostics };
}

const BASE = 'ifconfig_em0="inet 192.0.2.2/24"\n';

// (name, rc.conf, expected interfaces, expected vhosts)
const ADDRESSES: [string, string, Record<string, string>, string[]][] = [
  ["CIDR", 'ifconfig_em0="inet 192.0.2.2/24"', { em0: "192.0.2.2/24 up" }, []],
  ["dotted netmask", 'ifconfig_em0="inet 192.0.2.2 netmask 255.255.255.128"', {
    em0: "192.0.2.2/25 up",
  }, []],
  ["hex netmask before the address", 'ifconfig_em0="inet netmask 0xffff0000 10.1.2.3"', {
    em0: "10.1.2.3/16 up",
  }, []],
  ["inet6 prefixlen", 'ifconfig_em0="inet6 2001:db8::2 prefixlen 48"', {
    em0: "2001:db8::2/48 up",
  }, []],
  ["inet6 default /64", 'ifconfig_em0_ipv6="inet6 2001:db8::2"', { em0: "2001:db8::2/64 up" }, []],
  ["DHCP has no known subnet", 'ifconfig_em0="DHCP"', { em0: " up" }, []],
  ["up only", 'ifconfig_em2="up"', { em2: " up" }, []],
  ["down wins", 'ifconfig_em2="inet 10.0.0.1/30 down"', { em2: "10.0.0.1/30" }, []],
  ["kernel keywords are skipped", 'ifconfig_em0="inet 192.0.2.2/24 mtu 9000 -tso media auto"', {
    em0: "192.0.2.2/24 up",
  }, []],
  [
    "aliases in order",
    'ifconfig_em0="inet 192.0.2.2/24"\nifconfig_em0_alias1="inet 192.0.2.4/32"\n' +
    'ifconfig_em0_alias0="inet 192.0.2.3/32"\nifconfig_em0_aliases="inet 192.0.2.5/32"',
    { em0: "192.0.2.2/24 192.0.2.3/32 192.0.2.4/32 192.0.2.5/32 up" },
    [],
  ],
  [
    "FreeBSD 10+ vhid aliases",
    BASE + 'ifconfig_em0_alias0="inet vhid 1 advbase 2 advskew 100 pass s3cret state MASTER ' +
    'alias 192.0.2.50/32"\nifconfig_em0_alias1="inet6 vhid 2 pass p6 alias 2001:db8::50 prefixlen 64"',
    { em0: "192.0.2.2/24 up" },
    [
      "em0@em0 vhid=1 advbase=2 advskew=100 pass=s3cret state=master 192.0.2.50/32",
      "em0@em0 vhid=2 advbase=1 advskew=0 pass=p6 2001:db8::50/64",
    ],
  ],
  [
    "several vhid clauses in _aliases, last parameters win",
    BASE + 'ifconfig_em0_aliases="inet vhid 1 pass foo 192.0.2.50/32 inet vhid 1 advskew 9 ' +
    'pass bar 192.0.2.51/32"',
    { em0: "192.0.2.2/24 up" },
    ["em0@em0 vhid=1 advbase=1 advskew=9 pass=bar 192.0.2.50/32,192.0.2.51/32"],
  ],
  [
    "5.x carp with parent by subnet",
    BASE + 'cloned_interfaces="carp0"\nifconfig_carp0="vhid 7 advskew 100 pass x 192.0.2.1/24"',
    { em0: "192.0.2.2/24 up" },
    ["carp0@em0 vhid=7 advbase=1 advskew=100 pass=x 192.0.2.1/24"],
  ],
  [
    "5.x carp keywords in any order, netmask in hex, aliases",
    BASE +
    'cloned_interfaces="carp0"\nifconfig_carp0="192.0.2.1 netmask 0xffffff00 pass x vhid 3"\n' +
    'ifconfig_carp0_alias0="inet 192.0.2.9 netmask 255.255.255.255"',
    { em0: "192.0.2.2/24 up" },
    ["carp0@em0 vhid=3 advbase=1 advskew=0 pass=x 192.0.2.1/24,192.0.2.9/32"],
  ],
  [
    "5.x carp with carpdev, state and inet6",
    'cloned_interfaces="carp1"\nifconfig_carp1="vhid 4 carpdev em5 state backup inet6 ' +
    '2001:db8::1 prefixlen 64"',
    {},
    ["carp1@em5 vhid=4 advbase=1 advskew=0 pass= state=backup 2001:db8::1/64"],
  ],
  [
    "IPv6 parent by prefix",
    'ifconfig_em1_ipv6="inet6 2001:db8:1::2/64"\ncloned_interfaces="carp0"\n' +
    'ifconfig_carp0="vhid 5 inet6 2001:db8:1::1/64"',
    { em1: "2001:db8:1::2/64 up" },
    ["carp0@em1 vhid=5 advbase=1 advskew=0 pass= 2001:db8:1::1/64"],
  ],
];

for (const [name, text, interfaces, carp] of ADDRESSES) {
  Deno.test(`rc.conf ifconfig: ${name}`, () => {
    const s = summarise(text);
    assertEquals(s.diagnostics, []);
    assertEquals(s.interfaces, interfaces);
    assertEquals(s.carp, carp);
  });
}

// (name, rc.conf, exact diagnostics)
const BAD: [string, string, string[]][] = [
  ["vhid out of range", BASE + 'ifconfig_em0_alias0="inet vhid 256 alias 192.0.2.9/32"', [
    "rc.conf:2:32 error: vhid must be a number from 1 to 255, not '256'",
  ]],
  ["vhid zero", 'cloned_interfaces="carp0"\nifconfig_carp0="vhid 0 192.0.2.1/24 carpdev em0"', [
    "rc.conf:2:22 error: vhid must be a number from 1 to 255, not '0'",
    "rc.conf:2:1 error: carp0 has no 'vhid'",
  ]],
  ["advbase 0", BASE + 'ifconfig_em0_alias0="inet vhid 1 advbase 0 alias 192.0.2.9/32"', [
    "rc.conf:2:42 error: advbase must be a number from 1 to 255, not '0'",
  ]],
  ["advskew 255", BASE + 'ifconfig_em0_alias0="inet vhid 1 advskew 255 alias 192.0.2.9/32"', [
    "rc.conf:2:42 error: advskew must be a number from 0 to 254, not '255'",
  ]],
  [
    "advskew not a number",
    BASE + 'ifconfig_em0_alias0="inet vhid 1 advskew ten alias 192.0.2.9/32"',
    [
      "rc.conf:2:42 error: advskew must be a number from 0 to 254, not 'ten'",
    ],
  ],
  [
    "parameter before vhid (10+)",
    BASE + 'ifconfig_em0_alias0="inet advskew 5 vhid 1 alias 192.0.2.9/32"',
    [
      "rc.conf:2:27 error: 'advskew' must come after 'vhid'",
    ],
  ],
  [
    "pass without a value",
    'cloned_interfaces="carp0"\nifconfig_carp0="vhid 1 carpdev em0 192.0.2.1/24 pass"',
    [
      "rc.conf:2:49 error: 'pass' needs a passphrase",
    ],
  ],
  [
    "bad state",
    'cloned_interfaces="carp0"\nifconfig_carp0="vhid 1 carpdev em0 state up 192.0.2.1/24"',
    [
      "rc.conf:2:42 error: state must be master, backup or init, not 'up'",
    ],
  ],
  ["bad address", 'ifconfig_em0="inet 192.0.2.300/24"', [
    "rc.conf:1:20 error: invalid address '192.0.2.300/24'",
  ]],
  ["family mismatch", 'ifconfig_em0="inet 2001:db8::1/64"', [
    "rc.conf:1:20 error: expected an IPv4 address, got '2001:db8::1/64'",
  ]],
  ["bad netmask", 'ifconfig_em0="inet 192.0.2.2 netmask 255.0.255.0"', [
    "rc.conf:1:38 error: invalid netmask '255.0.255.0'",
  ]],
  ["bad prefixlen", 'ifconfig_em0="inet6 2001:db8::2 prefixlen 129"', [
    "rc.conf:1:43 error: invalid prefixlen '129'",
  ]],
  ["classful default", 'ifconfig_em0="inet 10.1.2.3"', [
    "rc.conf:1:20 warning: no netmask given; ifconfig applies the classful /8",
  ]],
  ["unknown keyword", 'ifconfig_em0="inet 192.0.2.2/24 frobnicate"', [
    "rc.conf:1:33 warning: unknown ifconfig keyword 'frobnicate' ignored",
  ]],
  ["-alias", 'ifconfig_em0_alias0="inet 192.0.2.3/32 -alias"\nifconfig_em0="up"', [
    "rc.conf:1:40 warning: '-alias' removes an address; pfsyncd ignores it",
  ]],
  ["unicast peer", BASE + 'ifconfig_em0_alias0="inet vhid 1 peer 192.0.2.3 alias 192.0.2.9/32"', [
    "rc.conf:2:34 warning: unicast CARP 'peer' is not supported; multicast is used",
  ]],
  [
    "alias gap",
    BASE + 'ifconfig_em0_alias0="inet 192.0.2.3/32"\nifconfig_em0_alias2="inet 192.0.2.4/32"',
    [
      "rc.conf:3:1 warning: ifconfig_em0_alias2 is never applied: rc stops at the missing " +
      "ifconfig_em0_alias1",
    ],
  ],
  ["alias without family", BASE + 'ifconfig_em0_alias0="192.0.2.3/32"', [
    "rc.conf:2:1 warning: ifconfig_em0_alias0 should start with 'inet' or 'inet6'",
  ]],
  ["carp not cloned", BASE + 'ifconfig_carp0="vhid 1 192.0.2.1/24"', [
    "rc.conf:2:1 warning: carp0 is configured but not listed in cloned_interfaces",
  ]],
  [
    "no parent subnet",
    BASE + 'cloned_interfaces="carp0"\nifconfig_carp0="vhid 1 198.51.100.1/24"',
    [
      "rc.conf:3:24 error: no interface has a configured subnet containing 198.51.100.1/24; " +
      "add 'carpdev IF' to ifconfig_carp0",
    ],
  ],
  [
    "address owner",
    BASE + 'cloned_interfaces="carp0"\nifconfig_carp0="vhid 1 advskew 50 192.0.2.2/24"',
    [
      "rc.conf:3:35 warning: 192.0.2.2 is also em0's own address: the kernel treats this host " +
      "as the address owner and forces advskew 0",
    ],
  ],
  ["pfsync version", 'ifconfig_pfsync0="version 1400"', [
    "rc.conf:1:27 warning: pfsync 'version 1400' ignored: pfsyncd speaks protocol version 2",
  ]],
  [
    "no parent subnet, DHCP named",
    'ifconfig_em0="DHCP"\ncloned_interfaces="carp0"\nifconfig_carp0="vhid 1 198.51.100.1/24"',
    [
      "rc.conf:3:24 error: no interface has a configured subnet containing 198.51.100.1/24 " +
      "(em0 uses DHCP: subnet unknown); add 'carpdev IF' to ifconfig_carp0",
    ],
  ],
  [
    "several candidate parents",
    BASE + 'ifconfig_em1="inet 192.0.2.130/25"\ncloned_interfaces="carp0"\n' +
    'ifconfig_carp0="vhid 1 192.0.2.129/32"',
    [
      "rc.conf:4:24 error: 192.0.2.129/32 lies in the subnets of several interfaces: em0, em1; " +
      "choose one with 'carpdev IF'",
    ],
  ],
  [
    "addresses on different parents",
    BASE + 'ifconfig_em1="inet 198.51.100.2/24"\ncloned_interfaces="carp0"\n' +
    'ifconfig_carp0="vhid 1 192.0.2.1/24 198.51.100.1/24"',
    [
      "rc.conf:4:37 error: addresses of carp0 resolve to different parents: em0 (192.0.2.1/24) " +
      "and em1 (198.51.100.1/24)",
    ],
  ],
];

for (const [name, text, diagnostics] of BAD) {
  Deno.test(`rc.conf ifconfig reports ${name}`, () => {
    assertEquals(summarise(text).diagnostics, diagnostics);
  });
}

// (name, rc.conf, expected settings)
const PFSYNC: [string, string, Record<string, unknown>][] = [
  ["5.x ifconfig_pfsync0", 'ifconfig_pfsync0="up syncif em2 maxupd 64"', {
    "pfsync.enabled": true,
    "pfsync.syncif": "em2",
    "pfsync.maxupd": 64,
  }],
  ["syncdev, syncpeer, defer", 'ifconfig_pfsync0="syncdev em2 syncpeer 10.0.0.2 defer"', {
    "pfsync.syncif": "em2",
    "pfsync.syncpeer": "10.0.0.2",
    "pfsync.defer": true,
  }],
  ["clearing keywords", 'ifconfig_pfsync0="syncif em2 -syncif -syncpeer -defer up"', {
    "pfsync.syncif": undefined,
    "pfsync.syncpeer": undefined,
    "pfsync.defer": false,
    "pfsync.enabled": true,
  }],
  ["syncpeer 0.0.0.0 means the group", 'ifconfig_pfsync0="syncpeer 0.0.0.0"', {
    "pfsync.syncpeer": undefined,
  }],
  [
    "6.x variables win over ifconfig_pfsync0",
    'ifconfig_pfsync0="syncdev em1"\npfsync_enable="YES"\npfsync_syncdev="em2"\n' +
    'pfsync_syncpeer="10.0.0.2"\npfsync_ifconfig="maxupd 10"',
    {
      "pfsync.syncif": "em2",
      "pfsync.syncpeer": "10.0.0.2",
      "pfsync.maxupd": 10,
      "pfsync.enabled": true,
    },
  ],
  ["pfsync_enable NO ignores its variables", 'pfsync_enable="NO"\npfsync_syncdev="em2"', {
    "pfsync.enabled": false,
  }],
  [
    "pfsyncd's own variables",
    'pfsyncd_enable="yes"\npfsyncd_flags="-v"\npfsyncd_config="/etc/p.yaml"',
    { "rcd.enable": true, "rcd.flags": "-v", "rcd.config": "/etc/p.yaml" },
  ],
];

for (const [name, text, settings] of PFSYNC) {
  Deno.test(`rc.conf pfsync: ${name}`, () => {
    const s = summarise(text);
    assertEquals(s.diagnostics, []);
    assertEquals(s.settings, settings);
  });
}

const PFSYNC_BAD: [string, string, string[]][] = [
  ["maxupd 256", 'ifconfig_pfsync0="maxupd 256"', [
    "rc.conf:1:26 error: maxupd must be a number from 0 to 255, not '256'",
  ]],
  ["syncdev without value", 'ifconfig_pfsync0="up syncdev"', [
    "rc.conf:1:22 error: 'syncdev' needs an interface name",
  ]],
  ["bad yes/no", 'pfsync_enable="maybe"', [
    "rc.conf:1:1 warning: pfsync_enable is not set properly ('maybe'); treated as NO",
  ]],
  ["carp keyword on pfsync0", 'ifconfig_pfsync0="vhid 1"', [
    "rc.conf:1:19 warning: unknown ifconfig keyword 'vhid' ignored",
    "rc.conf:1:24 warning: unknown ifconfig keyword '1' ignored",
  ]],
];

for (const [name, text, diagnostics] of PFSYNC_BAD) {
  Deno.test(`rc.conf pfsync reports ${name}`, () => {
    assertEquals(summarise(text).diagnostics, diagnostics);
  });
}

Deno.test("rc.conf declares interfaces from network_interfaces, cloned_interfaces, ifconfig_", () => {
  const { layer } = rcFrom(
    'network_interfaces="AUTO em0 em1"\ncloned_interfaces="carp0 pfsync0"\nifconfig_em3="up"',
  );
  assertEquals([...layer.declaredInterfaces].sort(), ["carp0", "em0", "em1", "em3", "pfsync0"]);
});

Deno.test("rc.conf ifconfig: the address owner gets advskew 0, as in the 5.x kernel", () => {
  const s = summarise(
    BASE + 'cloned_interfaces="carp0"\nifconfig_carp0="vhid 1 advskew 50 192.0.2.2/24"',
  );
  assertEquals(s.carp, ["carp0@em0 vhid=1 advbase=1 advskew=0 pass= 192.0.2.2/24"]);
});
