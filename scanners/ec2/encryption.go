package ec2

import (
	"fmt"

	"github.com/posture-dev/posture/internal/check"
)

// snapshotARN is a snapshot's ARN; snapshot ARNs carry no account ID.
func snapshotARN(inv *Inventory, id string) string {
	return check.ARN(inv.Partition, "ec2", inv.Region, "", "snapshot/"+id)
}

// volumeUnencryptedCheck fails every EBS volume that is not encrypted.
func volumeUnencryptedCheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, v := range inv.Volumes {
		id, a := v.ID, arn(inv, "volume/"+v.ID)
		attached := v.AttachedTo
		if attached == nil {
			attached = []string{}
		}
		evidence := map[string]any{
			"encrypted": v.Encrypted, "kms_key_id": v.KMSKeyID, "attached_instances": attached,
			"size_gib": v.SizeGiB, "state": v.State,
		}
		if v.Name != "" {
			evidence["name"] = v.Name
		}
		if !v.Encrypted {
			out = append(out, check.Fail(id, a, fmt.Sprintf("EBS volume %s (%d GiB, %s) is not encrypted", v.ID, v.SizeGiB, attachment(attached)), evidence))
			continue
		}
		key := "a KMS key"
		if v.KMSKeyID != "" {
			key = v.KMSKeyID
		}
		out = append(out, check.Pass(id, a, fmt.Sprintf("EBS volume %s is encrypted with %s", v.ID, key), evidence))
	}
	return out
}

func attachment(instances []string) string {
	switch len(instances) {
	case 0:
		return "not attached"
	case 1:
		return "attached to " + instances[0]
	}
	return fmt.Sprintf("attached to %d instances", len(instances))
}

// ebsDefaultEncryptionCheck reports the region's EBS encryption-by-default
// setting: one finding per region. The setting belongs to the account in
// that region and has no ARN of its own, so the finding's resource ID is the
// account ID (as for the account-level S3 public access block) and its ARN
// is empty; the result's region says which region's setting it is, and the
// fingerprint (check, account, region, resource) is unique per region.
func ebsDefaultEncryptionCheck(inv *Inventory) []check.Finding {
	id := inv.AccountID
	if inv.EBSEncryptionByDefault == nil {
		return []check.Finding{check.Error(id, "", fmt.Sprintf("EBS encryption by default was not collected for account %s in %s", id, inv.Region),
			map[string]any{"region": inv.Region})}
	}
	on := *inv.EBSEncryptionByDefault
	evidence := map[string]any{"ebs_encryption_by_default": on, "region": inv.Region}
	if !on {
		return []check.Finding{check.Fail(id, "", fmt.Sprintf("EBS encryption by default is off for account %s in %s", id, inv.Region), evidence)}
	}
	return []check.Finding{check.Pass(id, "", fmt.Sprintf("EBS encryption by default is on for account %s in %s", id, inv.Region), evidence)}
}

// snapshotUnencryptedCheck fails every snapshot owned by the account that is
// not encrypted.
func snapshotUnencryptedCheck(inv *Inventory) []check.Finding {
	var out []check.Finding
	for _, s := range inv.Snapshots {
		id, a := s.ID, snapshotARN(inv, s.ID)
		evidence := map[string]any{"volume_id": s.VolumeID, "encrypted": s.Encrypted, "kms_key_id": s.KMSKeyID, "size_gib": s.SizeGiB}
		if s.Name != "" {
			evidence["name"] = s.Name
		}
		if !s.Encrypted {
			out = append(out, check.Fail(id, a, fmt.Sprintf("EBS snapshot %s (of volume %s) is not encrypted", s.ID, orUnknown(s.VolumeID)), evidence))
			continue
		}
		out = append(out, check.Pass(id, a, fmt.Sprintf("EBS snapshot %s is encrypted", s.ID), evidence))
	}
	return out
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}
