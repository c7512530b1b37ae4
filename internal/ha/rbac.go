package ha

import (
	coordinationv1 "k8s.io/api/coordination/v1"
	rbacv1 "k8s.io/api/rbac/v1"
)

// RequiredRules are the only permissions an Elector needs, granted by a Role
// in the lease's namespace: it reads, creates and renews its Lease. It lists,
// watches and deletes nothing, and records no events. The integration tests
// prove that a service account bound to exactly these rules can lead.
func RequiredRules() []rbacv1.PolicyRule {
	return []rbacv1.PolicyRule{{
		APIGroups: []string{coordinationv1.GroupName},
		Resources: []string{"leases"},
		Verbs:     []string{"get", "create", "update"},
	}}
}
