/**
 * The demo's configuration files, laid out like rc/rc.conf.example,
 * rc/sysctl.conf.example and rc/pfsyncd.yaml.example, with Linux interface
 * names: eth0 inside (192.0.2.0/24), eth1 outside (198.51.100.0/24), sync0 a
 * direct cable (10.0.0.0/30). Firewall A has advskew 0, B advskew 100.
 */

export interface DemoFirewall {
  readonly label: "fw1" | "fw2";
  readonly hostid: number;
  readonly advskew: number;
  /** Last octet on the inside and outside LANs. */
  readonly host: number;
  readonly sync: string;
}

export const DEMO_PASS = "demo-lan-wan";
export const INSIDE_VIP = "192.0.2.1";
export const OUTSIDE_VIP = "198.51.100.1";
export const CLIENT = "192.0.2.10";
export const SERVER = "198.51.100.10";

export const FIREWALLS: readonly DemoFirewall[] = [
  { label: "fw1", hostid: 0x0a, advskew: 0, host: 2, sync: "10.0.0.1" },
  { label: "fw2", hostid: 0x0b, advskew: 100, host: 3, sync: "10.0.0.2" },
];

export function rcConf(fw: DemoFirewall): string {
  const skew = fw.advskew ? ` advskew ${fw.advskew}` : "";
  return [
    `# rc.conf of ${fw.label} (written by pfsyncd demo; see rc/rc.conf.example)`,
    `hostname="${fw.label}.demo.example"`,
    `network_interfaces="lo eth0 eth1 sync0"`,
    `ifconfig_eth0="inet 192.0.2.${fw.host}/24"`,
    `ifconfig_eth1="inet 198.51.100.${fw.host}/24"`,
    `ifconfig_sync0="inet ${fw.sync}/30 up"`,
    `carp_pass="${DEMO_PASS}"`,
    `cloned_interfaces="carp0 carp1"`,
    `ifconfig_carp0="vhid 1${skew} pass \${carp_pass} ${INSIDE_VIP}/24"`,
    `ifconfig_carp1="vhid 2${skew} pass \${carp_pass} ${OUTSIDE_VIP}/24"`,
    `pfsync_enable="YES"`,
    `pfsync_syncdev="sync0"`,
    "",
  ].join("\n");
}

export const SYSCTL_CONF = "# sysctl.conf (see rc/sysctl.conf.example)\nnet.inet.carp.preempt=1\n";

export function yaml(fw: DemoFirewall, dir: string, provider = "memory"): string {
  return [
    `# pfsyncd.yaml of ${fw.label} (see rc/pfsyncd.yaml.example)`,
    `hostid: ${fw.hostid}`,
    `provider: ${provider}`,
    `control: ${dir}/${fw.label}.sock`,
    `pidfile: ${dir}/${fw.label}.pid`,
    "log: {level: info, format: text}",
    "",
  ].join("\n");
}

/** TCP port of the demo's echo server. */
export const FLOW_PORT = 7000;

/**
 * The firewalls' forwarding rules in conntrack mode: established and related
 * traffic passes, new connections only from inside, everything else is
 * dropped. With nf_conntrack_tcp_loose=0 a connection whose state a firewall
 * lacks dies there, so surviving the failover proves the states were synced.
 */
export const NFT_RULESET = `table inet pfsyncd_demo {
  chain forward {
    type filter hook forward priority filter; policy drop;
    ct state established,related accept
    ct state new iifname "eth0" accept
  }
}
`;
