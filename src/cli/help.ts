/**
 * @module cli/help
 * `--help` texts of every command.
 */

export const HELP: Record<string, string> = {
  main: `coap-group: CoAP group communication (RFC 7390) from the command line

Usage:
  coap-group get|put|post|delete URI [options]   send a request (a group request when URI names a multicast group)
  coap-group fetch|patch|ipatch URI [options]     the same with FETCH, PATCH or iPATCH (RFC 8132)
  coap-group ping URI                             a CoAP ping (empty Confirmable, RFC 7252 §4.3) to one node
  coap-group discover [GROUP-URI]                 GET /.well-known/core on a group (default coap://224.0.1.187)
  coap-group serve [options]                      run a CoAP node
  coap-group proxy --bind ADDR [options]          run a CoAP proxy that also reaches groups (RFC 7390 §2.9)
  coap-group groups list|add|update|remove|replace NODE-URI ...   configure a node's /coap-group
  coap-group keys oscore|group --out DIR          generate OSCORE / Group OSCORE key files (mode 0600)
  coap-group rd --bind ADDR [options]             run a resource directory (RFC 9176) that knows groups
  coap-group rd register-group|lookup RD-URI ...  register a group in it, look up endpoints and resources
  coap-group demo [--nodes N] [--console]         a room of nodes on this machine, addressed by multicast
  coap-group console [--http-port N] [--iface IF] the commissioning console in the browser (docs/console.md)

Run 'coap-group COMMAND --help' for the options of a command.
Global options (anywhere on the line):
  --verbose   each CoAP message sent and received, one line each on stderr
  --debug     a stack trace with every failure (also NODE_DEBUG=coap)
coap-group --version prints the version.
Exit status: 0 success, 1 a 4.xx/5.xx response or Reset (unicast), 2 usage error, 3 no response
in time (a unicast timeout, or a group request that nobody answered), 4 other failure,
130 stopped by Ctrl-C (SIGINT), 143 stopped by SIGTERM; serve exits 0 when stopped either way.
A closed output (coap-group ... | head) ends a command quietly, status 0.`,
  request: `Usage: coap-group get|put|post|delete|fetch|patch|ipatch URI [options]

  --payload TEXT        request payload
  --payload-file FILE   request payload read from FILE
  --format FMT          Content-Format of the payload (number or media type, e.g. application/json)
  --accept FMT          Accept option
  --con | --non         message type for unicast (default --con); group requests are NON, and CON
                        to a proxy unless --non
  --wait SECONDS        how long to collect group responses (default: Leisure + 1 s = 6); through
                        a proxy, its Multicast-Timeout (rounded up; the client listens 2 s longer)
  --no-response LIST    RFC 7967 classes not wanted, e.g. 2 or 2,5 (or 'all')
  --json                one JSON object per response per line
  --iface NAME|ADDR     interface for group requests (default: loopback, 127.0.0.1)
  --hops N              multicast TTL / hop limit (default 1)
  --allow-wide-scope    allow a group scope wider than site-local
  --source ADDR         local address to send from
  --timeout SECONDS     give up on a unicast request after this long
  --block-size N        block size for block-wise transfers (16-1024)
  --observe             (get) stream notifications until Ctrl-C or --wait (RFC 7641)
  --oscore FILE         protect the request with the OSCORE / Group OSCORE keys in FILE
  --proxy URI           send through this forward proxy, coap://HOST[:PORT]; a group request
                        then gets one line per member, as direct (draft-ietf-core-groupcomm-proxy)
URI: coap://HOST[:PORT]/path?query; HOST is an IP literal ([ff02::fd%25lo] for IPv6 with a zone) or a name.
Unicast: the payload goes to stdout; the code goes to stderr for an error and for put, post,
delete, patch and ipatch (e.g. '2.04 Changed'). Group: one line per response, then a summary on
stderr (with --json, a JSON object: responses, endpoints, ms, reason, target, exit, error).
A group that nobody answered within the wait exits 3 ('no response from the group ...'), unless
--no-response disclaimed some classes. Exit status: see coap-group --help.`,
  ping: `Usage: coap-group ping URI [--timeout SECONDS] [--source ADDR]

Sends an empty Confirmable message (RFC 7252 §4.3), which every CoAP node answers with a Reset,
and prints '<ip>:<port> answered in N ms'. Exit 0 when it answered, 3 when it did not (within
--timeout, or when the Confirmable retransmissions end, after 62 to 93 s). Unicast only (RFC 7252 §8.1).`,
  discover: `Usage: coap-group discover [GROUP-URI] [--wait SECONDS] [--iface NAME|ADDR] [--json] [--query Q]

Sends GET /.well-known/core to a group (default coap://224.0.1.187) and lists each node and its links.
  --query Q   a link filter such as rt=core.gp (RFC 6690 §4.1)
A node listening on another port than 5683 is found with that port: discover coap://224.0.1.187:PORT.
Exit 3 when no node answered.`,
  serve: `Usage: coap-group serve [options]

  --bind ADDR              unicast address to bind (repeatable; default: every address of --iface,
                           link-local ones too, followed as addresses come and go)
  --port N                 UDP port (default 5683)
  --iface NAME|ADDR        interface for groups (default: loopback, 127.0.0.1); repeatable, for a
                           node on several links: groups are joined on each
  --join GROUP[:PORT]      join a multicast group (repeatable)
  --no-default-groups      do not join All CoAP Nodes (224.0.1.187, ff02::fd, ff05::fd)
  --leisure SECONDS        Leisure for multicast responses (default 5)
  --resource PATH[=VALUE]  a value resource: GET reads it, PUT replaces it (repeatable)
  --multicast PATH         let PATH accept multicast requests (repeatable)
  --config FILE            JSON file with resources and settings (docs/serve-config.md)
  --state DIR              keep the group configuration (/coap-group) in DIR
  --allow-config-from CIDR who may change /coap-group (repeatable; default loopback)
  --start-empty            with --state: start with no memberships if the saved state is corrupt
  --oscore FILE            OSCORE / Group OSCORE keys of this node (see docs/security.md)
  --require-oscore         with --oscore: refuse unprotected requests (4.01; silence for multicast)
  --pairwise-responses     with --oscore: answer Group OSCORE group requests in the pairwise mode
                           (no countersignature: 64 bytes and a signature less per response)
  --config-controller KID[@IDCONTEXT]  only this OSCORE identity may change /coap-group (repeatable)
  --pid-file FILE          write this process's ID to FILE when ready (with --rd: registered and in
                           its groups, if the directory answers), removed on exit: a script can wait
                           for FILE, and 'kill $(cat FILE)' stops the node itself, also through npx
  --rd URI|auto            register with this resource directory (auto: ask All CoAP Nodes on --iface)
  --sector NAME            with --rd: the sector (d) to register in and to take groups from
  --ep NAME                with --rd: the endpoint name (default coap-group-ADDR-PORT)
  --lifetime SECONDS       with --rd: registration lifetime, renewed at 80 % (default 90000)
  --join-rd-groups         with --rd: join the sector's groups (et=core.rd-group) that name a --multicast
                           resource, and leave them when they go (RFC 9176 Appendix A)
Prints one line 'ready coap://ADDR:PORT groups G:P,...' when serving; every resource is in place
before the first request can arrive. Stops on SIGTERM or SIGINT, status 0. A request handler that
fails (answered 5.00) is logged on stderr. With --port other than 5683 the node answers group
requests, discovery included, on its own port only: a note on stderr says so.`,
  proxy: `Usage: coap-group proxy --bind ADDR [options]

A forward proxy (Proxy-Uri, Proxy-Scheme; RFC 7252 §5.7) with a cache, that forwards to groups
for allow-listed clients (draft-ietf-core-groupcomm-proxy): each member's response comes back
on the client's token with a Reply-From option naming the member, until the client's
Multicast-Timeout. Without group forwarding, a group target gets 5.01 (RFC 7390 §2.9).
  --bind ADDR              address clients reach the proxy on (repeatable; required)
  --port N                 UDP port (default 5683)
  --iface NAME|ADDR        interface forwarded group requests go out on (default: that of --bind)
  --hops N                 multicast TTL / hop limit of forwarded group requests (default 1)
  --allow-groups-from C[=GROUP-URI]   clients that may reach groups (repeatable): a CIDR, or
                           kid:HEX[@IDCONTEXT] for an --oscore identity; =GROUP-URI limits the
                           entry to one group (coap://239.255.0.3[:PORT][/PATH]); others get 4.01
  --reverse PATH=GROUP-URI a path on the proxy that stands for a group (repeatable), e.g.
                           /room3=coap://239.255.0.3: GET coap://PROXY/room3/light goes to its /light
  --max-timeout SECONDS    largest Multicast-Timeout honoured; larger ones are cut to it (default 60)
  --members GROUP-URI=ADDR,...  the members of a group (repeatable), for Group-ETag revalidation
  --learn-members          take the responders of the last request as a group's members instead
  --cache-size N           responses kept in the cache (default 1000; 0: no cache)
  --oscore FILE            clients may protect their requests to the proxy with these OSCORE keys
  --pid-file FILE          write the process ID to FILE once ready; removed on exit
  --http-port N            also run the HTTP-to-CoAP gateway (RFC 8075) on this TCP port: GET
                           http://HOST:N/hc/coap://TARGET; groups follow --allow-groups-from
  --http-bind ADDR         address of the gateway (default 127.0.0.1)
  --http-allow-target CIDR unicast targets the gateway may reach, or 'any' (repeatable;
                           default loopback and the subnets of --iface)
  --http-host-name NAME    a name the gateway answers to besides IP literals and localhost
Prints 'ready coap://ADDR:PORT' once listening (and the gateway's http://... after it);
SIGTERM or Ctrl-C stops it (status 0).
Option numbers (experimental, docs/proxy.md): Multicast-Timeout 65026, Reply-From 65016, Group-ETag 65048.`,
  rd: `Usage: coap-group rd --bind ADDR [options]

A resource directory (RFC 9176): registration at /rd, lookups at /rd-lookup/ep and /rd-lookup/res
(observable), simple registration at /.well-known/rd; groups are registrations with et=core.rd-group.
  --bind ADDR               unicast address to bind (repeatable; required)
  --port N                  UDP port (default 5683)
  --iface NAME|ADDR         interface for All CoAP Nodes and All CoRE RDs (default: that of --bind)
  --state DIR               keep the registrations in DIR (they survive restarts and crashes)
  --start-empty             with --state: start empty if the saved state is corrupt (moved aside)
  --allow-ct-from CIDR|KID  a commissioning tool: may register groups and for other addresses, and
                            manage any registration (repeatable; default loopback). KID needs --oscore
  --oscore FILE             OSCORE keys of the directory (see docs/security.md)
  --leisure SECONDS         Leisure for multicast discovery answers (default 5)
  --max-registrations N     registrations at most (default 10000); past it, 5.03 with Max-Age
  --no-simple-registration  do not serve /.well-known/rd
  --pid-file FILE           write this process's ID to FILE when ready (removed on exit), so that a
                            script can wait for FILE, and 'kill $(cat FILE)' stops the directory itself
Then: coap-group rd register-group --help, coap-group rd lookup --help.
Prints one line 'ready coap://ADDR:PORT groups G:P,...' when serving; stops on SIGTERM or SIGINT.`,
  'rd register-group': `Usage: coap-group rd register-group RD-URI --name NAME --base coap://GROUP [options]

Registers a group (RFC 9176 Appendix A: et=core.rd-group) and prints its registration resource.
RD-URI is coap://HOST[:PORT] (its /.well-known/core names the interfaces), coap://HOST/PATH, auto
(All CoAP Nodes, port 5683) or coap://GROUP[:PORT] (ask that group, RFC 7390 §3.3).
  --name NAME            the group name (ep)
  --base coap://GROUP    the group's multicast address (and port)
  --sector NAME          the sector (d) whose nodes join it
  --links LINKFORMAT     the resources every member offers, e.g. '</light>;rt=light'
  --lifetime SECONDS     lifetime (default 90000)
  --oscore FILE          protect the request (commissioning tool named by KID)
  --iface NAME|ADDR      interface for RD-URI auto (default loopback)
  --timeout SECONDS      give up after this long (default 10)`,
  'rd lookup': `Usage: coap-group rd lookup RD-URI ep|res [QUERY] [--json]

Looks up endpoints (ep) or resources (res) (RFC 9176 §6) and prints one link per line.
QUERY is a&b...: attribute filters (rt=light, et=core.rd-group, d=room3, ep=lamp*) and page/count.
  --json                 one JSON object per link: {"href":...,"ep":...}
  --oscore FILE          protect the request
  --timeout SECONDS      give up after this long (default 10)`,
  demo: `Usage: coap-group demo [--nodes N] [--leisure SECONDS] [--port N] [--console [--http-port N] [--pid-file FILE]]

Starts N nodes (default 5) on 127.0.0.2.., all members of All CoAP Nodes on the loopback interface,
then a controller discovers them, switches every light on with one multicast PUT, reads them back
with one multicast GET and prints each answer with its delay; then it commissions rooms over /coap-group
and through a resource directory (the room's nodes join by themselves), and locks doors with Group OSCORE.
--console leaves the room running instead (its nodes registered in a resource directory, in the
sectors hall and room4) with the commissioning console on http://127.0.0.1:8080/console/ (or
--http-port N; 0 for any free port), prints 'console URL', and runs until Ctrl-C (status 0);
--pid-file FILE is written just before that line and removed on exit.
Sends nothing beyond loopback.`,
  console: `Usage: coap-group console [options]

The commissioning console in the browser (docs/console.md): an HTTP-to-CoAP gateway for the
local link that serves it at /console/. Prints 'console URL' when it serves; runs until Ctrl-C
or SIGTERM (status 0).
  --http-port N            HTTP port (default 8080; 0: any free port)
  --http-bind ADDR         HTTP listen address (default 127.0.0.1: this host only)
  --iface NAME|ADDR        interface of group requests (default loopback, 127.0.0.1)
  --group URI              the group discovered first (default coap://224.0.1.187)
  --rd URI                 a resource directory to read nodes and groups from
  --wait SECONDS           how long a discovery collects answers (default 3)
  --http-allow-target CIDR unicast targets allowed (repeatable; default loopback and the
                           subnets of --iface)
  --http-host-name NAME    a name the console answers to besides IP literals and localhost
  --pid-file FILE          write this process's ID to FILE when ready, removed on exit
Group requests are taken from loopback clients only, and every request goes through the
gateway's limits (docs/proxy.md).`,
};
