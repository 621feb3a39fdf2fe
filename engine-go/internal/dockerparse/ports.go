package dockerparse

import (
	"cmp"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

var (
	hostPortRE = regexp.MustCompile(`^[0-9]{1,5}$`)
	portKeyRE  = regexp.MustCompile(`^([0-9]{1,5})/([a-z]{1,8})$`)
)

var portProtocols = map[string]bool{"tcp": true, "udp": true, "sctp": true}

// listingPorts reads the listing's Ports: [{IP, PrivatePort, PublicPort, Type}]; IP and
// PublicPort only for published ports.
func listingPorts(raw any, where string) ([]string, error) {
	if raw == nil {
		return []string{}, nil
	}
	rows, err := asArray(raw, where+": Ports")
	if err != nil {
		return nil, err
	}
	if len(rows) > maxPorts {
		return nil, fail("%s: too many ports", where)
	}
	ports := map[string]bool{}
	for _, item := range rows {
		row, err := asObject(item, where+": Ports")
		if err != nil {
			return nil, err
		}
		private, err := port(row["PrivatePort"], where+": PrivatePort")
		if err != nil {
			return nil, err
		}
		protocol, ok := row["Type"].(string)
		if !ok || !portProtocols[protocol] {
			return nil, fail("%s: Ports.Type: unknown protocol", where)
		}
		public := row["PublicPort"]
		if public == nil {
			ports[fmt.Sprintf("%d/%s", private, protocol)] = true
			continue
		}
		ip := ""
		if raw := row["IP"]; raw != nil {
			if ip, err = hostIP(raw, where+": Ports.IP"); err != nil {
				return nil, err
			}
		}
		publicPort, err := port(public, where+": PublicPort")
		if err != nil {
			return nil, err
		}
		ports[published(ip, publicPort, private, protocol)] = true
	}
	return sortedPorts(ports), nil
}

// inspectPorts reads NetworkSettings.Ports: {"80/tcp": [{"HostIp", "HostPort"}] | null}.
func inspectPorts(raw any, where string) ([]string, error) {
	if raw == nil {
		return []string{}, nil
	}
	data, err := asObject(raw, where+": NetworkSettings.Ports")
	if err != nil {
		return nil, err
	}
	if len(data) > maxPorts {
		return nil, fail("%s: too many ports", where)
	}
	ports := map[string]bool{}
	for _, key := range sortedKeys(data) {
		bindings := data[key]
		match := portKeyRE.FindStringSubmatch(key)
		if match == nil || !portProtocols[match[2]] {
			return nil, fail("%s: malformed port", where)
		}
		number, _ := strconv.ParseInt(match[1], 10, 64)
		private, err := portNumber(number, where+": port")
		if err != nil {
			return nil, err
		}
		protocol := match[2]
		if list, isList := bindings.([]any); bindings == nil || (isList && len(list) == 0) {
			ports[fmt.Sprintf("%d/%s", private, protocol)] = true
			continue
		}
		list, err := asArray(bindings, where+": port bindings")
		if err != nil {
			return nil, err
		}
		for _, item := range list {
			binding, err := asObject(item, where+": port binding")
			if err != nil {
				return nil, err
			}
			hostPort, ok := binding["HostPort"].(string)
			if !ok || !hostPortRE.MatchString(hostPort) {
				return nil, fail("%s: malformed HostPort", where)
			}
			number, _ := strconv.ParseInt(hostPort, 10, 64)
			public, err := portNumber(number, where+": HostPort")
			if err != nil {
				return nil, err
			}
			ip := ""
			if raw := binding["HostIp"]; raw != nil {
				if ip, err = hostIP(raw, where+": HostIp"); err != nil {
					return nil, err
				}
			}
			ports[published(ip, public, private, protocol)] = true
		}
	}
	return sortedPorts(ports), nil
}

// published is a port as the docker CLI prints it: 0.0.0.0:8080->80/tcp, [::]:8080->80/tcp.
func published(ip string, public, private int64, protocol string) string {
	host := ip
	if strings.Contains(ip, ":") {
		host = "[" + ip + "]"
	}
	prefix := ""
	if host != "" {
		prefix = host + ":"
	}
	return fmt.Sprintf("%s%d->%d/%s", prefix, public, private, protocol)
}

// sortedPorts sorts by container port, protocol, then the whole text.
func sortedPorts(set map[string]bool) []string {
	type keyed struct {
		number   int64
		protocol string
		port     string
	}
	keys := make([]keyed, 0, len(set))
	for port := range set {
		target := port
		if i := strings.LastIndex(port, "->"); i >= 0 {
			target = port[i+2:]
		}
		number, protocol, _ := strings.Cut(target, "/")
		n, _ := strconv.ParseInt(number, 10, 64)
		keys = append(keys, keyed{n, protocol, port})
	}
	slices.SortFunc(keys, func(a, b keyed) int {
		switch {
		case a.number != b.number:
			return cmp.Compare(a.number, b.number)
		case a.protocol != b.protocol:
			return strings.Compare(a.protocol, b.protocol)
		}
		return strings.Compare(a.port, b.port)
	})
	ports := make([]string, len(keys))
	for i, k := range keys {
		ports[i] = k.port
	}
	return ports
}

func port(raw any, where string) (int64, error) {
	value, err := count(raw, where)
	if err != nil {
		return 0, err
	}
	return portNumber(value, where)
}

func portNumber(value int64, where string) (int64, error) {
	if value <= 0 || value > 65_535 {
		return 0, fail("%s: port out of range", where)
	}
	return value, nil
}

func hostIP(raw any, where string) (string, error) {
	ip, err := text(raw, where, 64)
	if err != nil {
		return "", err
	}
	for _, r := range ip {
		ok := r < 0x80 && (r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' ||
			strings.ContainsRune(".:%-_", r))
		if !ok {
			return "", fail("%s: malformed address", where)
		}
	}
	return ip, nil
}
