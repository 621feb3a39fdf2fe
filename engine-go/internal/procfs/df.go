package procfs

import (
	"slices"
	"strings"

	"vpshealth/engine/internal/model"
	"vpshealth/engine/internal/pytext"
)

var pseudoFSTypes = setOf(
	// memory-backed
	"tmpfs", "devtmpfs", "ramfs", "rootfs", "shm", "hugetlbfs",
	// kernel interfaces
	"proc", "sysfs", "devpts", "devfs", "cgroup", "cgroup2", "cpuset", "securityfs",
	"selinuxfs", "apparmorfs", "pstore", "bpf", "debugfs", "tracefs", "configfs",
	"mqueue", "fusectl", "binfmt_misc", "rpc_pipefs", "nfsd", "nsfs", "autofs",
	"efivarfs", "xenfs", "sockfs", "pipefs", "anon_inodefs", "none",
	// read-only images: always 100 % full, so alerting on them is noise
	"squashfs", "iso9660", "udf", "cramfs", "romfs", "erofs",
	// FUSE helpers that mirror other filesystems or hold no data
	"fuse.portal", "fuse.xdg-document-portal", "fuse.gvfsd-fuse",
	"fuse.gvfs-fuse-daemon", "fuse.lxcfs", "fuse.snapfuse", "fuse.squashfuse",
	"fuse.squashfuse_ll",
)

// unionFSTypes are container layers, kept only as the root filesystem (a host that is itself
// a container).
var unionFSTypes = setOf("overlay", "aufs")

var noiseMountPrefixes = []string{
	"/proc/", "/sys/", "/dev/", "/run/", "/snap/",
	"/var/lib/docker/", "/var/lib/containers/", "/var/lib/kubelet/",
}

var ramDiskDevicePrefixes = []string{"/dev/zram", "/dev/ram"}

// dfRow is one row of df -PT output with all three sizes known.
type dfRow struct {
	device, fstype, mount string
	sizes                 []string
}

// parseDf gives the real filesystems of df -kPT (GNU or busybox), one per mount point, by
// mount.
func parseDf(body string) ([]model.Disk, error) {
	rows, err := dfRows(body, "df")
	if err != nil {
		return nil, err
	}
	disks := []model.Disk{}
	seen := map[string]bool{}
	for _, row := range rows {
		var sizes [3]int64
		for i, size := range row.sizes {
			if sizes[i], err = kib(size, "df"); err != nil {
				return nil, err
			}
		}
		disk := model.Disk{
			Mount: row.mount, FSType: row.fstype,
			TotalBytes: sizes[0], UsedBytes: sizes[1], AvailableBytes: sizes[2],
		}
		if isRealDisk(row.device, disk) && !seen[disk.Mount] {
			seen[disk.Mount] = true
			disks = append(disks, disk)
		}
	}
	sortBy(disks, func(d model.Disk) string { return d.Mount })
	return disks, nil
}

// withInodes adds the inode counts of df -iPT (the dfi section) to the disks whose mount point
// it lists; without that section the disks stay as they are.
func withInodes(disks []model.Disk, body string) ([]model.Disk, error) {
	rows, err := dfRows(body, "dfi")
	if err != nil {
		return nil, err
	}
	type inodes struct{ total, used int64 }
	byMount := map[string]inodes{}
	for _, row := range rows {
		var sizes [3]int64
		for i, size := range row.sizes {
			if sizes[i], err = parseInt(size, "dfi"); err != nil {
				return nil, err
			}
		}
		if _, ok := byMount[row.mount]; !ok {
			byMount[row.mount] = inodes{sizes[0], min(sizes[1], sizes[0])}
		}
	}
	for i := range disks {
		if counts, ok := byMount[disks[i].Mount]; ok {
			total, used := counts.total, counts.used
			disks[i].InodesTotal, disks[i].InodesUsed = &total, &used
		}
	}
	return disks, nil
}

func dfRows(body, section string) ([]dfRow, error) {
	lines := nonBlankLines(body)
	if len(lines) == 0 {
		return nil, nil
	}
	if !strings.HasPrefix(lines[0], "Filesystem") {
		return nil, fail("%s: header line missing, got %s", section, pytext.Excerpt(lines[0], 40))
	}
	var rows []dfRow
	for _, line := range lines[1:] {
		row, ok, err := parseDfRow(line, section)
		if err != nil {
			return nil, err
		}
		if ok {
			rows = append(rows, row)
		}
	}
	return rows, nil
}

// parseDfRow reads one df line; ok is false when df printed "-" for an unknown size. Device
// and mount point may both contain spaces, so the row is anchored on the run
// "<type> <size> <used> <avail> <capacity%> /..." rather than on column positions.
func parseDfRow(line, section string) (dfRow, bool, error) {
	tokens := pytext.Tokens(line)
	fields := make([]string, len(tokens))
	for i, token := range tokens {
		fields[i] = token.Text
	}
	i, err := dfCapacityColumn(line, fields, section)
	if err != nil {
		return dfRow{}, false, err
	}
	device := line[tokens[0].Start:tokens[i-5].End]
	mount := line[tokens[i+1].Start:]
	sizes := fields[i-3 : i]
	if slices.Contains(sizes, "-") {
		return dfRow{}, false, nil
	}
	fstype, err := printable(fields[i-4], section)
	if err != nil {
		return dfRow{}, false, err
	}
	if mount, err = printable(mount, section); err != nil {
		return dfRow{}, false, err
	}
	return dfRow{device, fstype, mount, sizes}, true, nil
}

func dfCapacityColumn(line string, fields []string, section string) (int, error) {
	for i := 5; i < len(fields)-1; i++ {
		if isDfCapacity(fields[i]) && strings.HasPrefix(fields[i+1], "/") &&
			isDfSize(fields[i-3]) && isDfSize(fields[i-2]) && isDfSize(fields[i-1]) {
			return i, nil
		}
	}
	return 0, fail("%s: malformed line %s", section, pytext.Excerpt(line, 40))
}

// isDfSize is [0-9]{1,19} or "-".
func isDfSize(field string) bool {
	return field == "-" || (len(field) <= 19 && pytext.IsDigits(field))
}

// isDfCapacity is [0-9]{1,3}% or "-".
func isDfCapacity(field string) bool {
	if field == "-" {
		return true
	}
	digits, found := strings.CutSuffix(field, "%")
	return found && len(digits) >= 1 && len(digits) <= 3 && pytext.IsDigits(digits)
}

func isRealDisk(device string, disk model.Disk) bool {
	if disk.TotalBytes == 0 || pseudoFSTypes[disk.FSType] {
		return false
	}
	if unionFSTypes[disk.FSType] && disk.Mount != "/" {
		return false
	}
	if hasAnyPrefix(device, ramDiskDevicePrefixes) {
		return false
	}
	return !hasAnyPrefix(disk.Mount, noiseMountPrefixes)
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, prefix := range prefixes {
		if strings.HasPrefix(s, prefix) {
			return true
		}
	}
	return false
}

func setOf(items ...string) map[string]bool {
	set := make(map[string]bool, len(items))
	for _, item := range items {
		set[item] = true
	}
	return set
}

func sortBy[T any](items []T, key func(T) string) {
	slices.SortStableFunc(items, func(a, b T) int { return strings.Compare(key(a), key(b)) })
}
